import type { SecretSource } from './credentials.js'
import type { Deadline } from './deadline.js'
import type { DeadlineWatcher } from './deadline-watch.js'
import { ReleasedError } from './errors.js'
import type { ClientPool, Slot } from './pool.js'

export type ReleaseDisposition = 'keep' | 'close' | 'destroy'

/** Who a scope belongs to, for events and error messages. */
export interface ScopeInfo {
  /** The package, for error messages. */
  packageName: string
  /** The invocation's request id and function name, copied onto the events of its client. */
  invocation?: { awsRequestId?: string; functionName?: string }
  /**
   * This invocation's own secret (a token a middleware put in `request.internal`), for a client
   * opened for it; the pool's secret otherwise. Never shared with a concurrent invocation.
   */
  secret?: SecretSource
}

/**
 * One invocation's claim on the environment's managed client. It carries the invocation's
 * deadline (computed once), takes a client on first use (an invocation that never uses it opens
 * nothing), and is released exactly once. After release every use fails at once with
 * `ReleasedError` and touches nothing: no slot taken, no connection opened, nothing sent.
 *
 * Once the client is in use, the pool's deadline watch (one unreferenced timer for all scopes)
 * waits for the deadline: an operation still in flight then gets its client destroyed at once, so
 * no answer arrives later for a reader that is gone and no socket holds the process.
 */
export class Scope<TClient> implements DeadlineWatcher {
  #slot?: Slot<TClient>
  #acquiring?: Promise<TClient>
  /** The client `acquire` handed out, for `clientNow`. */
  #ready?: TClient
  #released = false
  /** In the pool's deadline watch: from the first operation until release. */
  #watched = false
  /** A raw client was handed out: its sockets stay referenced until release. */
  #held = false
  /** Operations started and not yet settled. */
  inFlight = 0
  /** The invocation left state on the client (session variables, a raw handle): reset it at release. */
  dirty = false

  constructor(
    readonly pool: ClientPool<TClient>,
    readonly deadline: Deadline,
    readonly info: ScopeInfo,
  ) {}

  /** Whether this invocation ever took a client. */
  get acquired(): boolean {
    return this.#slot !== undefined
  }

  get released(): boolean {
    return this.#released
  }

  get clientId(): number | undefined {
    return this.#slot?.id
  }

  /** The client this invocation holds right now, without opening or validating one. */
  get current(): TClient | undefined {
    return this.#slot?.client
  }

  /** Throws `ReleasedError` once the scope is released; `what` names the use in the message. */
  assertLive(what = 'the handle'): void {
    if (this.#released) throw this.releasedError(what)
  }

  /**
   * The invocation's client without waiting, when it is at hand: already taken, or warm in the
   * pool (used a moment ago, nothing to validate). `undefined`: use `client()`.
   */
  clientNow(): TClient | undefined {
    if (this.#released) return undefined
    const ready = this.readyClient()
    if (ready !== undefined) return ready
    if (this.#acquiring || this.#slot) return undefined
    const slot = this.pool.takeWarm(this.info.invocation)
    const client = slot?.client
    if (slot === undefined || client === undefined) return undefined
    this.#slot = slot
    this.#ready = client
    this.updateRef()
    return client
  }

  /** The invocation's client, opened or validated on first use. */
  client(): Promise<TClient> {
    if (this.#released) return Promise.reject(this.releasedError())
    // Taken on the warm path (no promise was made for it) or acquired before.
    const ready = this.readyClient()
    if (ready !== undefined) return Promise.resolve(ready)
    if (!this.#acquiring) {
      const acquiring = this.acquire()
      this.#acquiring = acquiring
      acquiring.catch(() => {
        if (this.#acquiring === acquiring) this.#acquiring = undefined
      })
    }
    return this.#acquiring
  }

  /**
   * Whether this invocation's client had to wait for the server to free a connection, read once:
   * a release policy takes it as a sign to look at the server's capacity now.
   */
  takePressureSignal(): boolean {
    const slot = this.#slot
    if (!slot?.openedUnderPressure) return false
    slot.openedUnderPressure = false
    return true
  }

  /**
   * Runs one operation on the client, counting it in flight until it settles, and restarting the
   * idle clock then. A client at hand (every operation after an invocation's first, and the first
   * of a warm invocation) is used without a promise or a turn to get it: this runs for every
   * statement.
   *
   * An operation that takes the second argument, `settled`, reports its own end: it calls
   * `settled()` once the driver answered, before its promise settles (settleWithin's `settled`
   * hook), and its promise is returned as it is, with none of ours around it (a promise resolved
   * with rows costs a lookup of `rows.then` and a turn). One that takes only the client is followed.
   */
  use<T>(operation: (client: TClient, settled: () => void) => Promise<T>): Promise<T> {
    try {
      this.deadline.assertTimeLeft(this.info.packageName, 'the operation')
    } catch (error) {
      return Promise.reject(error)
    }
    // Held already, or warm in the pool (an invocation's first operation, back to back with the
    // last). After release there is none at hand: `client()` then rejects with ReleasedError.
    const ready = this.clientNow()
    if (ready !== undefined) return this.run(operation, ready)
    return this.client().then((client) => this.run(operation, client))
  }

  /** One operation counted in flight from its start until it settles, whichever way. */
  private run<T>(
    operation: (client: TClient, settled: () => void) => Promise<T>,
    client: TClient,
  ): Promise<T> {
    this.begin()
    let open = true
    const settled = () => {
      if (!open) return
      open = false
      this.end()
    }
    let pending: Promise<T>
    try {
      pending = operation(client, settled)
    } catch (error) {
      settled()
      return Promise.reject(error)
    }
    if (operation.length >= 2) return pending
    return pending.then(
      (value) => {
        settled()
        return value
      },
      (error: unknown) => {
        settled()
        throw error
      },
    )
  }

  /** Marks an operation started outside `use` (a transaction); pair with `end()`. */
  begin(): void {
    this.inFlight += 1
    if (this.inFlight === 1) this.updateRef()
    if (!this.#watched) {
      this.#watched = true
      this.pool.deadlineWatch.watch(this)
    }
  }

  end(): void {
    this.inFlight -= 1
    if (this.inFlight === 0) this.updateRef()
    if (this.#slot) this.pool.touch(this.#slot)
  }

  /**
   * Keeps the client's sockets referenced until release: for a raw client handed to the handler,
   * whose operations the scope cannot see. Otherwise sockets are referenced only while an
   * operation is in flight, so an idle client never keeps a script or an invocation alive.
   */
  hold(): void {
    this.#held = true
    this.updateRef()
  }

  /** The client this scope already holds, still its slot's (not discarded since). */
  private readyClient(): TClient | undefined {
    return this.#ready !== undefined && this.#slot?.client === this.#ready ? this.#ready : undefined
  }

  private updateRef(): void {
    const slot = this.#slot
    if (!slot) return
    const wanted = this.#held || this.inFlight > 0
    // A shared client held by other invocations too may have their operations in flight: only the
    // last holder's give-back unreferences it.
    if (!wanted && slot.holders > 1) return
    this.pool.setRef(slot, wanted)
  }

  /**
   * Drops the client now (it is broken or its state unknown); the next `client()` of this
   * invocation gets a new one.
   */
  discard(reason: string): void {
    if (!this.#slot) return
    this.pool.discard(this.#slot, reason)
    this.#acquiring = undefined
    this.#ready = undefined
  }

  /**
   * Gives the client back, once: kept for the next invocation (reset first when `dirty`), closed
   * gracefully, or destroyed. An operation still in flight makes the client's state unknown: it is
   * destroyed whatever the disposition. Later calls do nothing. Returns a promise only when there
   * is something to wait for (a close or a reset): a kept client is given back at once, without
   * the turns a promise costs every invocation.
   */
  release(disposition: ReleaseDisposition, reason: string): Promise<void> | undefined {
    if (this.#released) return undefined
    this.#released = true
    if (this.#watched) this.pool.deadlineWatch.unwatch(this)
    const slot = this.#slot
    this.#acquiring = undefined
    this.#ready = undefined
    this.#slot = undefined
    if (!slot) return undefined
    const { pool } = this
    let pending: Promise<void> | undefined
    try {
      if (this.inFlight > 0) pool.discard(slot, 'released-with-operation-in-flight')
      // A shared client still used by another in-flight invocation is closed by the last one.
      else if (slot.holders > 1) pending = undefined
      else if (disposition === 'close') pending = pool.close(slot, reason)
      else if (disposition === 'destroy') pool.discard(slot, reason)
      else if (this.dirty) pending = pool.reset(slot, this.deadline)
    } finally {
      if (pending === undefined) pool.giveBack(slot)
    }
    return pending?.finally(() => pool.giveBack(slot))
  }

  private releasedError(what = 'the client'): ReleasedError {
    const id = this.info.invocation?.awsRequestId
    const request = id ? ` (request ${id})` : ''
    return new ReleasedError(
      `${this.info.packageName}: ${what} was used after the invocation ended${request}; nothing was sent. Await all work before the handler returns`,
      { package: this.info.packageName },
    )
  }

  /**
   * @internal The deadline passed (the pool's watch calls it): in-flight work loses its client,
   * unless another live invocation shares that client (its own deadline and timeouts bound it).
   * Work started later (a release's capacity read) is watched again, and dropped at once.
   */
  deadlinePassed(): void {
    this.#watched = false
    const slot = this.#slot
    if (this.inFlight > 0 && slot && slot.holders <= 1) this.pool.discard(slot, 'deadline')
  }

  private async acquire(): Promise<TClient> {
    this.deadline.assertTimeLeft(this.info.packageName, 'a connection')
    const slot = this.#slot ?? (await this.pool.take(this.deadline))
    // Released while waiting for a slot: hand it straight back.
    if (this.#released) {
      this.pool.giveBack(slot)
      throw this.releasedError()
    }
    this.#slot = slot
    if (this.info.invocation) slot.invocation = this.info.invocation
    let client: TClient
    try {
      client = await this.pool.clientFor(slot, this.deadline, this.info.secret)
    } catch (error) {
      if (this.#slot === slot) {
        this.#slot = undefined
        this.pool.giveBack(slot)
      }
      throw error
    }
    // Released while connecting: release() already gave the slot (and its new client) back.
    if (this.#released) throw this.releasedError()
    this.#ready = client
    this.updateRef()
    return client
  }

  /** What a logged scope shows: no pool, no config, no secret. */
  toJSON(): object {
    return { released: this.#released, clientId: this.clientId, inFlight: this.inFlight }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Scope ${JSON.stringify(this.toJSON())}`
  }
}
