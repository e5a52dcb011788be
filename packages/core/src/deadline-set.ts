import type { Deadline } from './deadline.js'

/**
 * The deadlines of the invocations that currently use one shared, multiplexed client (Redis,
 * MongoDB). Work on the client (a command, a reconnect) is bounded by the latest of them, so one
 * invocation's deadline never cuts short another's work; on Lambda there is one at a time.
 *
 * @example
 * const active = new DeadlineSet()
 * active.add(deadline)
 * active.latest()?.remaining()
 * active.delete(deadline)
 */
export class DeadlineSet {
  private readonly counts = new Map<Deadline, number>()
  /** The latest deadline, kept current on add and delete: it is read for every command. */
  #latest?: Deadline

  add(deadline: Deadline): void {
    this.counts.set(deadline, (this.counts.get(deadline) ?? 0) + 1)
    if (!this.#latest || deadline.expiresAt > this.#latest.expiresAt) this.#latest = deadline
  }

  delete(deadline: Deadline): void {
    const count = this.counts.get(deadline)
    if (count === undefined) return
    if (count > 1) {
      this.counts.set(deadline, count - 1)
      return
    }
    this.counts.delete(deadline)
    if (deadline === this.#latest) this.#latest = this.findLatest()
  }

  /** How many invocations are using the client. */
  get size(): number {
    let total = 0
    for (const count of this.counts.values()) total += count
    return total
  }

  /** The deadline that expires last, or `undefined` when no invocation is using the client. */
  latest(): Deadline | undefined {
    return this.#latest
  }

  /** True when invocations are using the client and every one of their deadlines has passed. */
  get expired(): boolean {
    return this.#latest?.expired === true
  }

  private findLatest(): Deadline | undefined {
    let latest: Deadline | undefined
    for (const deadline of this.counts.keys()) {
      if (!latest || deadline.expiresAt > latest.expiresAt) latest = deadline
    }
    return latest
  }
}
