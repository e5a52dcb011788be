import { type BackoffOptions, createBackoff } from './backoff.js'
import type { Deadline } from './deadline.js'
import { sleep } from './sleep.js'

export interface RetryOptions extends BackoffOptions {
  /**
   * Attempts in all, the first included.
   * @default `8`
   */
  maxAttempts?: number
  /**
   * Do not start an attempt with less time than this left before the deadline.
   * @default `50`
   */
  minAttemptMs?: number
}

export interface RetryContext {
  deadline: Deadline
  /** Whether this error may be retried; called only while attempts and time remain. */
  isRetryable: (error: unknown) => boolean
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void
  /**
   * The delay the failed attempt itself asks for (a server's "retry after", a place in a queue),
   * used instead of the backoff; `undefined` falls back to the backoff.
   */
  delayOf?: (error: unknown) => number | undefined
}

export class RetryGaveUp extends Error {
  constructor(
    readonly lastError: unknown,
    readonly attempts: number,
    readonly reason: 'not-retryable' | 'attempts' | 'deadline',
  ) {
    super(`gave up after ${attempts} attempt(s): ${reason}`)
  }
}

/**
 * Runs `attempt` until it succeeds, the error is not retryable, the attempts run out, or the next
 * backoff would end too close to the deadline. Never sleeps past the deadline. Rejects with
 * `RetryGaveUp` holding the last error and why it stopped.
 *
 * @example
 * await retryWithin((n) => connect(), { deadline, isRetryable: isTooManyConnections }, { maxAttempts: 8 })
 */
export const retryWithin = async <T>(
  attempt: (attemptNumber: number) => Promise<T>,
  context: RetryContext,
  options: RetryOptions = {},
): Promise<T> => {
  const { maxAttempts = 8, minAttemptMs = 50, ...backoffOptions } = options
  const nextDelay = createBackoff(backoffOptions)
  let lastChance = false
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber)
    } catch (error) {
      if (!context.isRetryable(error)) throw new RetryGaveUp(error, attemptNumber, 'not-retryable')
      if (attemptNumber >= maxAttempts) throw new RetryGaveUp(error, attemptNumber, 'attempts')
      // The last sleep is shortened to what is left, so the budget is used for one more attempt.
      const budget = context.deadline.remaining() - minAttemptMs
      if (budget <= 0 || lastChance) throw new RetryGaveUp(error, attemptNumber, 'deadline')
      const wanted = context.delayOf?.(error) ?? nextDelay()
      const delayMs = Math.min(wanted, budget)
      lastChance = wanted >= budget
      context.onRetry?.({ attempt: attemptNumber, delayMs, error })
      await sleep(delayMs)
    }
  }
}
