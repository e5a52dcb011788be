/** The longest delay Node's timers take (a longer one fires after 1 ms). */
const maxDelayMs = 2 ** 31 - 1

/**
 * One unreferenced timer that fires no later than asked, for watchers of deadlines that are
 * asked again and again (every invocation, every command). A pending timer that fires earlier
 * than a new request is left alone: when it fires, its owner looks again and asks for the rest.
 * Back-to-back invocations, each with a later deadline, so keep one timer instead of setting and
 * clearing one each (a setTimeout and its clearTimeout cost about as much as a warm invocation's
 * own bookkeeping). A pending timer set by another `setTimeout` than today's (a test's fake timers,
 * since uninstalled, which would never fire it) is not trusted: it is replaced.
 *
 * @example
 * const timer = new LazyTimer(() => expireWhatIsDue())
 * timer.fireBy(deadline.expiresAt)
 */
export class LazyTimer {
  readonly #onFire: () => void
  #timer?: NodeJS.Timeout
  /** When the pending timer fires (epoch ms). */
  #dueAt = 0
  /** The `setTimeout` that set it: one of fake timers (a test's) never fires once they are gone. */
  #setBy?: typeof setTimeout

  constructor(onFire: () => void) {
    this.#onFire = onFire
  }

  /** Makes sure the timer fires at `dueAt` (epoch ms) or earlier. */
  fireBy(dueAt: number): void {
    if (this.#timer !== undefined && this.#dueAt <= dueAt && this.#setBy === setTimeout) return
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#dueAt = dueAt
    this.#setBy = setTimeout
    // Node fires a longer delay than 2^31 - 1 ms after 1 ms: fire at that most, look, ask again.
    this.#timer = setTimeout(() => this.#fire(), Math.min(maxDelayMs, Math.max(0, dueAt - Date.now())))
    this.#timer.unref?.()
  }

  get pending(): boolean {
    return this.#timer !== undefined
  }

  /** Stops the pending timer, if any. */
  cancel(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #fire(): void {
    this.#timer = undefined
    this.#onFire()
  }
}
