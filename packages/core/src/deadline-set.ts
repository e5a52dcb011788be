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
  /**
   * One entry per invocation using the client (a deadline shared by two counts twice). An array,
   * not a Map: there are few, and a Map keyed by a new object every invocation hashes it and
   * grows and shrinks its table each time.
   */
  private readonly entries: Deadline[] = []
  /** The latest deadline, kept current on add and delete: it is read for every command. */
  #latest?: Deadline

  add(deadline: Deadline): void {
    this.entries.push(deadline)
    if (!this.#latest || deadline.expiresAt > this.#latest.expiresAt) this.#latest = deadline
  }

  delete(deadline: Deadline): void {
    const index = this.entries.lastIndexOf(deadline)
    if (index < 0) return
    const last = this.entries.pop() as Deadline
    if (index < this.entries.length) this.entries[index] = last
    if (deadline === this.#latest && !this.entries.includes(deadline)) this.#latest = this.findLatest()
  }

  /** How many invocations are using the client. */
  get size(): number {
    return this.entries.length
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
    for (const deadline of this.entries) {
      if (!latest || deadline.expiresAt > latest.expiresAt) latest = deadline
    }
    return latest
  }
}
