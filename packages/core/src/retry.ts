import type { Deadline } from './deadline.js'
import { RetryBudget, type RetryBudgetOptions, type RetryStop } from './retry-budget.js'

/** How long and how often `retryWithin` tries: see `RetryBudget`. */
export type RetryOptions = RetryBudgetOptions

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
    readonly reason: 'not-retryable' | RetryStop,
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
  const budget = new RetryBudget(options)
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber)
    } catch (error) {
      if (!context.isRetryable(error)) throw new RetryGaveUp(error, attemptNumber, 'not-retryable')
      const decision = budget.nextDelay(attemptNumber, context.deadline, context.delayOf?.(error))
      if ('stop' in decision) throw new RetryGaveUp(error, attemptNumber, decision.stop)
      context.onRetry?.({ attempt: attemptNumber, delayMs: decision.delayMs, error })
      // A referenced timer: between attempts nothing else may keep the event loop alive, and the
      // invocation is waiting for this one (the real runtime would otherwise exit mid-invocation).
      // Referenced: someone awaits this retry. (node:timers/promises would cost every importer its load.)
      await new Promise((resolve) => setTimeout(resolve, decision.delayMs))
    }
  }
}
