import type { Deadline } from './deadline.js'
import { LazyTimer } from './lazy-timer.js'

/** Something bounded by a deadline that must act once the deadline has passed. */
export interface DeadlineWatcher {
  readonly deadline: Deadline
  /** Called once, after `deadline` has passed, unless unwatched before. */
  deadlinePassed(): void
}

/**
 * Calls each watcher's `deadlinePassed` once its own deadline has passed, with one unreferenced
 * timer for all of them (`LazyTimer`): the deadline guard of exclusive clients (SQL), where each
 * invocation's deadline bounds its own connection. Watchers are few (one at a time on Lambda,
 * a handful under Managed Instances): a list.
 */
export class DeadlineWatch {
  readonly #watchers: DeadlineWatcher[] = []
  readonly #timer = new LazyTimer(() => this.#check())

  watch(watcher: DeadlineWatcher): void {
    if (!watcher.deadline.bounded) return
    this.#watchers.push(watcher)
    this.#timer.fireBy(watcher.deadline.expiresAt)
  }

  unwatch(watcher: DeadlineWatcher): void {
    const watchers = this.#watchers
    const index = watchers.lastIndexOf(watcher)
    if (index < 0) return
    const last = watchers.pop() as DeadlineWatcher
    if (index < watchers.length) watchers[index] = last
  }

  get size(): number {
    return this.#watchers.length
  }

  /** Stops the timer for good. */
  dispose(): void {
    this.#watchers.length = 0
    this.#timer.cancel()
  }

  #check(): void {
    let earliest = Number.POSITIVE_INFINITY
    // Backwards, since an expired watcher is taken out (by swapping the last one in).
    for (let index = this.#watchers.length - 1; index >= 0; index -= 1) {
      const watcher = this.#watchers[index] as DeadlineWatcher
      if (watcher.deadline.expired) {
        this.unwatch(watcher)
        watcher.deadlinePassed()
      } else earliest = Math.min(earliest, watcher.deadline.expiresAt)
    }
    if (earliest !== Number.POSITIVE_INFINITY) this.#timer.fireBy(earliest)
  }
}
