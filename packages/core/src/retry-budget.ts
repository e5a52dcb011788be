import { type BackoffOptions, createBackoff } from './backoff.js'
import type { Deadline } from './deadline.js'

export interface RetryBudgetOptions extends BackoffOptions {
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
  /**
   * The first retry starts at once and the backoff begins with the second: for a connection that
   * dropped (a server restart, a socket closed during a freeze), where the first reconnect is the
   * likeliest to succeed.
   * @default `false`
   */
  immediateFirstRetry?: boolean
}

/** Why a budget says stop: no attempts left, or no time left for one more before the deadline. */
export type RetryStop = 'attempts' | 'deadline'

/** Wait `delayMs`, then attempt again; or stop, and why. */
export type RetryDecision = { delayMs: number } | { stop: RetryStop }

/**
 * The retry rule, step by step: after each failed attempt, the delay before the next, or stop.
 * Bounded by the number of attempts, by the deadline (no attempt starts with less than
 * `minAttemptMs` left; the last delay is shortened to what is left, for one last attempt) and
 * by a jittered backoff. `retryWithin` runs a loop on it; a driver that runs its own reconnect
 * loop (ioredis' `retryStrategy`) asks it directly, with the deadline of the moment.
 *
 * @example
 * const budget = new RetryBudget({ maxAttempts: 3, immediateFirstRetry: true })
 * const retryStrategy = (times: number) => {
 *   const decision = budget.nextDelay(times, deadlines.latest())
 *   return 'stop' in decision ? null : decision.delayMs
 * }
 */
export class RetryBudget {
  readonly #options: RetryBudgetOptions
  #backoff: () => number
  /** The previous delay was shortened to fit before the deadline: the attempt after it was the last. */
  #lastChance = false

  constructor(options: RetryBudgetOptions = {}) {
    this.#options = options
    this.#backoff = createBackoff(options)
  }

  /**
   * After `failedAttempts` attempts failed (1 after the first), the delay before the next one, or
   * why to stop. `deadline` is the work's deadline now (unbounded when absent). `askedMs`: the
   * delay the failure itself asked for (a server's "retry after"), used instead of the backoff
   * and bounded the same way.
   */
  nextDelay(failedAttempts: number, deadline?: Pick<Deadline, 'remaining'>, askedMs?: number): RetryDecision {
    const { maxAttempts = 8, minAttemptMs = 50, immediateFirstRetry = false } = this.#options
    if (failedAttempts >= maxAttempts) return { stop: 'attempts' }
    const budget = (deadline?.remaining() ?? Number.POSITIVE_INFINITY) - minAttemptMs
    if (budget <= 0 || this.#lastChance) return { stop: 'deadline' }
    const wanted = askedMs ?? (immediateFirstRetry && failedAttempts === 1 ? 0 : this.#backoff())
    this.#lastChance = wanted >= budget
    return { delayMs: Math.min(wanted, budget) }
  }

  /** Starts over (the connection was ready again): the backoff from its base, time for a last attempt. */
  reset(): void {
    this.#backoff = createBackoff(this.#options)
    this.#lastChance = false
  }
}
