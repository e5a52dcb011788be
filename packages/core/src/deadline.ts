import { remainingTimeMs } from './context.js'
import { DeadlineError } from './errors.js'

/**
 * The instant by which work for an invocation must be done: the invocation's remaining time
 * minus a safety margin, so an error can still be returned before Lambda kills the invocation.
 * Outside Lambda (no context clock) there is no deadline.
 *
 * @example
 * const deadline = Deadline.fromContext(context, 500)
 * const timeoutMs = deadline.bound(10_000) // at most what is left
 */
export class Deadline {
  constructor(readonly expiresAt: number = Number.POSITIVE_INFINITY) {}

  static none(): Deadline {
    return new Deadline()
  }

  static fromContext(context: unknown, marginMs: number): Deadline {
    const remaining = remainingTimeMs(context)
    return remaining === undefined ? new Deadline() : new Deadline(Date.now() + remaining - marginMs)
  }

  /** Milliseconds left (may be negative), `Infinity` without a deadline. */
  remaining(): number {
    return this.expiresAt - Date.now()
  }

  get expired(): boolean {
    return this.remaining() <= 0
  }

  get bounded(): boolean {
    return Number.isFinite(this.expiresAt)
  }

  /**
   * Throws a `DeadlineError` when no time is left, so nothing is started that could not finish.
   * Lambda Managed Instances do not enforce the timeout: the remaining time goes to zero and below
   * while the handler keeps running, and this deadline is the only one.
   */
  assertTimeLeft(packageName: string, what: string): void {
    if (!this.expired) return
    throw new DeadlineError(
      `${packageName}: no time left for ${what}: the invocation's deadline passed ${Math.ceil(-this.remaining())} ms ago, so it was not started`,
      { package: packageName },
    )
  }

  /** `ms`, or less when less is left; never below 1 (a zero timeout means "none" to many drivers). */
  bound(ms: number): number {
    return Math.max(1, Math.floor(Math.min(ms, this.remaining())))
  }
}
