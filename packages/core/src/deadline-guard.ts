import type { Deadline } from './deadline.js'
import { DeadlineSet } from './deadline-set.js'
import { LazyTimer } from './lazy-timer.js'

/**
 * The deadline guard of one shared, multiplexed client (Redis, MongoDB): one unreferenced timer
 * at the latest deadline of the invocations using it. When it fires every one of those deadlines
 * has passed, so whatever is still in flight belongs to no live invocation: `onExpired` ends it
 * (fails the commands, destroys the connection) at once, not at release. One invocation's
 * deadline never cuts short another's work; on Lambda there is one at a time.
 *
 * @example
 * const guard = new DeadlineGuard((dueAt) => failEverythingInFlight())
 * guard.enter(deadline) // an invocation starts using the client
 * guard.leave(deadline) // and gives it back
 */
export class DeadlineGuard {
  /** The deadlines of the invocations using the client now. */
  readonly deadlines = new DeadlineSet()
  readonly #onExpired: (dueAt: number) => void
  readonly #timer = new LazyTimer(() => this.#fire())

  /** `onExpired` gets the deadline that passed (epoch ms): a much later call slept through a freeze. */
  constructor(onExpired: (dueAt: number) => void) {
    this.#onExpired = onExpired
  }

  /** An invocation starts using the client: its deadline counts until `leave`. */
  enter(deadline: Deadline): void {
    this.deadlines.add(deadline)
    this.#schedule()
  }

  leave(deadline: Deadline): void {
    this.deadlines.delete(deadline)
    this.#schedule()
  }

  /** Stops the timer for good (the client is disposed). */
  dispose(): void {
    this.#timer.cancel()
  }

  /** Makes sure the timer fires no later than the latest deadline (see `LazyTimer`). */
  #schedule(): void {
    const latest = this.deadlines.latest()
    if (latest?.bounded) this.#timer.fireBy(latest.expiresAt)
  }

  #fire(): void {
    const latest = this.deadlines.latest()
    if (!latest?.bounded) return
    if (latest.expired) this.#onExpired(latest.expiresAt)
    else this.#timer.fireBy(latest.expiresAt)
  }

  /** `armed`: whether the guard would act, now that invocations with a deadline use the client. */
  toJSON(): object {
    const latest = this.deadlines.latest()
    return { invocations: this.deadlines.size, armed: this.#timer.pending && latest?.bounded === true }
  }
}
