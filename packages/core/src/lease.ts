import type { Deadline } from './deadline.js'
import type { ClientPool, Slot } from './pool.js'

export type ReleaseDisposition = 'keep' | 'close' | 'destroy'

/**
 * One invocation's claim on a client of the pool: acquired on first use (an invocation that never
 * uses it opens nothing), memoized so concurrent first calls share one acquire, and released
 * after the invocation.
 */
export class Lease<TClient> {
  private slot?: Slot<TClient>
  private acquiring?: Promise<TClient>
  /** Operations started and not yet settled. */
  inFlight = 0
  released = false

  constructor(
    readonly pool: ClientPool<TClient>,
    public deadline: Deadline,
  ) {}

  /** Whether this invocation ever asked for a client. */
  get acquired(): boolean {
    return this.slot !== undefined
  }

  get clientId(): number | undefined {
    return this.slot?.id
  }

  /** The invocation's client, opened or validated on first use. */
  client(): Promise<TClient> {
    if (!this.acquiring) {
      this.released = false
      this.acquiring = this.acquire()
      this.acquiring.catch(() => {
        this.acquiring = undefined
      })
    }
    return this.acquiring
  }

  /** The client this invocation holds right now, without opening or validating one. */
  get current(): TClient | undefined {
    return this.slot?.client
  }

  /**
   * Whether this invocation's client had to wait for the server to free a connection, read once:
   * a release policy takes it as a sign to look at the server's capacity now.
   */
  takePressureSignal(): boolean {
    const slot = this.slot
    if (!slot?.openedUnderPressure) return false
    slot.openedUnderPressure = false
    return true
  }

  /** Runs one operation on the client, counting it in flight and restarting the idle clock after. */
  async use<T>(operation: (client: TClient) => Promise<T>): Promise<T> {
    this.deadline.assertTimeLeft(this.pool.options.packageName, 'the operation')
    const client = await this.client()
    this.inFlight += 1
    try {
      return await operation(client)
    } finally {
      this.inFlight -= 1
      if (this.slot) this.pool.touch(this.slot)
    }
  }

  /**
   * Drops the client now (it is broken or its state unknown); the next `client()` of this
   * invocation gets a new one.
   */
  discard(reason: string): void {
    if (!this.slot) return
    this.pool.discard(this.slot, reason)
    this.acquiring = undefined
  }

  /** Gives the client back: kept for the next invocation, closed gracefully, or destroyed. */
  async release(disposition: ReleaseDisposition, reason: string): Promise<void> {
    const slot = this.slot
    this.released = true
    this.acquiring = undefined
    this.slot = undefined
    if (!slot) return
    try {
      // An operation still running (a handler cut short by a timeout) makes the state unknown.
      if (this.inFlight > 0) this.pool.discard(slot, 'released-with-operation-in-flight')
      // A shared client still used by another in-flight invocation is closed by the last one.
      else if (slot.holders > 1) return
      else if (disposition === 'close') await this.pool.close(slot, reason)
      else if (disposition === 'destroy') this.pool.discard(slot, reason)
    } finally {
      this.pool.giveBack(slot)
    }
  }

  private async acquire(): Promise<TClient> {
    this.deadline.assertTimeLeft(this.pool.options.packageName, 'a connection')
    const slot = this.slot ?? (await this.pool.take(this.deadline))
    this.slot = slot
    try {
      return await this.pool.clientFor(slot, this.deadline)
    } catch (error) {
      this.slot = undefined
      this.pool.giveBack(slot)
      throw error
    }
  }
}
