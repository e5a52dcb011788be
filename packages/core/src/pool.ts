import type { ConnectFailure, ConnectionAdapter } from './adapter.js'
import type { BackoffStrategy } from './backoff.js'
import { CredentialSource, type SecretSource } from './credentials.js'
import type { Deadline } from './deadline.js'
import { DeadlineWatch } from './deadline-watch.js'
import { AuthenticationError, CapacityError, ClosedError, ConnectError, DeadlineError } from './errors.js'
import { describeError, type EventSink, type LifecycleEvent } from './events.js'
import { RetryGaveUp, retryWithin } from './retry.js'
import { redactError } from './secrets.js'
import { withTimeout, yieldToEventLoop } from './sleep.js'

/**
 * For the pool's own work that an invocation awaits (a ping, a reset, a close) the timeout timer is
 * referenced: the client's sockets are not (an idle client must not hold the process), and under
 * the real runtime nothing else keeps the event loop alive during an invocation, so the process
 * would exit mid-invocation. The timer is cleared as soon as the work settles.
 */
const keepAlive = true

export interface PoolOptions<TClient> {
  packageName: string
  adapter: ConnectionAdapter<TClient>
  events: EventSink
  /**
   * A password or token, or a provider called for each new connection.
   * @default none (the adapter's config authenticates)
   */
  secret?: SecretSource
  /**
   * `exclusive`: each in-flight invocation gets its own client (SQL connections).
   * `shared`: all in-flight invocations share one client (multiplexed: Redis, MongoDB).
   */
  sharing: 'exclusive' | 'shared'
  /** Exclusive mode: the most clients one environment may hold (Lambda Managed Instances). */
  maxClients: number
  /** A client idle for this long or longer is pinged before it is handed out (0: every reuse). */
  validateAfterIdleMs: number
  /** The longest a validation ping may take (bounded by the deadline too). */
  validateTimeoutMs: number
  /** The longest one connect attempt may take (bounded by the deadline too). */
  connectTimeoutMs: number
  /** The longest a graceful close may take before the client is destroyed. */
  closeTimeoutMs: number
  retry: { strategy: BackoffStrategy; baseMs: number; capMs: number; maxAttempts: number }
  /**
   * Called with each new client once it is open, before it is handed out (session setup).
   * @default none
   */
  onOpen?: (client: TClient, deadline: Deadline) => Promise<void>
}

/** Below this gap since the last use no freeze happened: a thaw costs the Runtime API round trip at least. */
const yieldAfterIdleMs = 2

/** One client of an environment and its bookkeeping. */
export class Slot<TClient> {
  client?: TClient
  opening?: Promise<TClient>
  /** Invocations holding this slot (exclusive mode: 0 or 1). */
  holders = 0
  lastUsedAt = 0
  /** The invocation holding it (exclusive mode) or the last to take it (shared): for events. */
  invocation?: { awsRequestId?: string; functionName?: string }
  /** The client was opened only after the server refused for capacity: it is (nearly) full. */
  openedUnderPressure = false
  constructor(readonly id: number) {}
}

type Waiter = { resolve: () => void; deadline: Deadline }

/**
 * The clients of one environment for one config: opened lazily and single-flight, validated
 * after idle, replaced when dead, retried within the deadline, released and disposed. Backends
 * supply a `ConnectionAdapter`.
 */
export class ClientPool<TClient> {
  private readonly slots: Slot<TClient>[] = []
  private readonly waiters: Waiter[] = []
  private nextSlotId = 1
  private disposed = false
  private readonly credentials: CredentialSource
  /** The deadline guard of the scopes using this pool's clients (one timer for all). */
  readonly deadlineWatch = new DeadlineWatch()

  constructor(readonly options: PoolOptions<TClient>) {
    this.credentials = new CredentialSource(options.secret)
  }

  get size(): number {
    return this.slots.filter((s) => s.client !== undefined).length
  }

  get clients(): TClient[] {
    return this.slots.flatMap((s) => (s.client === undefined ? [] : [s.client]))
  }

  /** Takes a slot for an invocation, waiting (within the deadline) when the pool is at its cap. */
  async take(deadline: Deadline): Promise<Slot<TClient>> {
    this.assertOpen()
    for (;;) {
      const slot = this.pickSlot()
      if (slot) {
        slot.holders += 1
        return slot
      }
      await this.waitForSlot(deadline)
    }
  }

  /**
   * The warm path, without a promise: a slot whose client was used a moment ago (no freeze can have
   * happened, no validation is due) and does not look broken, taken at once. `undefined` when the
   * client must be opened, validated or waited for: then `take` and `clientFor`.
   */
  takeWarm(invocation?: Slot<TClient>['invocation']): Slot<TClient> | undefined {
    if (this.disposed || this.waiters.length > 0) return undefined
    const slot = this.pickSlot()
    const client = slot?.client
    if (slot === undefined || client === undefined || slot.opening) return undefined
    const idleMs = Date.now() - slot.lastUsedAt
    if (idleMs >= yieldAfterIdleMs || idleMs >= this.options.validateAfterIdleMs) return undefined
    if (this.options.adapter.isBroken(client)) return undefined
    slot.holders += 1
    if (invocation) slot.invocation = invocation
    this.emit(slot, { type: 'reuse', clientId: slot.id })
    return slot
  }

  /** Gives a slot back; the next waiter, if any, may take it. An idle client stops holding the process. */
  giveBack(slot: Slot<TClient>): void {
    slot.holders = Math.max(0, slot.holders - 1)
    slot.lastUsedAt = Date.now()
    if (slot.holders > 0) return
    this.setRef(slot, false)
    this.waiters.shift()?.resolve()
  }

  /**
   * Returns a kept client to a clean state with the adapter's reset hook, inside the deadline;
   * a client that cannot be reset is destroyed. Emits `reset`.
   */
  async reset(slot: Slot<TClient>, deadline: Deadline): Promise<void> {
    const { adapter } = this.options
    const client = slot.client
    if (client === undefined || !adapter.reset) return
    const started = Date.now()
    const timeoutMs = deadline.bound(this.options.validateTimeoutMs)
    try {
      await withTimeout(
        Promise.resolve(adapter.reset(client, timeoutMs)),
        timeoutMs,
        () => new Error('reset timed out'),
        keepAlive,
      )
      this.emit(slot, { type: 'reset', clientId: slot.id, ok: true, durationMs: Date.now() - started })
    } catch (error) {
      this.emit(slot, { type: 'reset', clientId: slot.id, ok: false, error: describeError(error) })
      this.discard(slot, 'reset-failed')
    }
  }

  private emit(slot: Slot<TClient>, event: Omit<LifecycleEvent, 'package' | 'key'>): void {
    this.options.events.emit(event, slot.invocation)
  }

  /** References a slot's sockets while an operation is in flight, unreferences them when idle. */
  setRef(slot: Slot<TClient>, ref: boolean): void {
    if (slot.client === undefined || !this.options.adapter.setRef) return
    try {
      this.options.adapter.setRef(slot.client, ref)
    } catch {
      // a closed socket has nothing to reference
    }
  }

  /**
   * The live client of a slot: reused when healthy, pinged first when idle too long, replaced
   * when dead, opened when absent.
   */
  async clientFor(slot: Slot<TClient>, deadline: Deadline, secret?: SecretSource): Promise<TClient> {
    this.assertOpen()
    if (slot.opening) return slot.opening
    const { adapter } = this.options
    if (slot.client !== undefined) {
      // A FIN or RST that arrived while the environment was frozen is handled on this turn. A
      // thaw always comes after a gap; back-to-back invocations skip the turn (~15 µs).
      if (Date.now() - slot.lastUsedAt >= yieldAfterIdleMs) await yieldToEventLoop()
      if (slot.client !== undefined && adapter.isBroken(slot.client)) {
        this.discard(slot, 'broken')
      } else if (
        slot.client !== undefined &&
        Date.now() - slot.lastUsedAt >= this.options.validateAfterIdleMs
      ) {
        const alive = await this.validate(slot, slot.client, deadline)
        if (!alive) this.discard(slot, 'validation-failed')
      }
      if (slot.client !== undefined) {
        this.emit(slot, { type: 'reuse', clientId: slot.id })
        return slot.client
      }
    }
    slot.opening = this.open(slot, deadline, secret).finally(() => {
      slot.opening = undefined
    })
    return slot.opening
  }

  /** Records use, so the idle clock starts from the last operation, not the last acquire. */
  touch(slot: Slot<TClient>): void {
    slot.lastUsedAt = Date.now()
  }

  /** Drops a slot's client at once (it is broken, or its state cannot be trusted). */
  discard(slot: Slot<TClient>, reason: string): void {
    const client = slot.client
    if (client === undefined) return
    slot.client = undefined
    try {
      this.options.adapter.destroy(client)
    } catch {
      // already gone
    }
    this.emit(slot, { type: 'close', clientId: slot.id, action: 'destroy', reason })
  }

  /** Closes a slot's client gracefully, bounded in time; destroys it if the close hangs. */
  async close(slot: Slot<TClient>, reason: string): Promise<void> {
    const client = slot.client
    if (client === undefined) return
    slot.client = undefined
    const { adapter, closeTimeoutMs } = this.options
    const started = Date.now()
    try {
      await withTimeout(
        Promise.resolve(adapter.close(client)),
        closeTimeoutMs,
        () => new Error('close timed out'),
        keepAlive,
      )
      this.emit(slot, {
        type: 'close',
        clientId: slot.id,
        action: 'close',
        reason,
        durationMs: Date.now() - started,
      })
    } catch {
      try {
        adapter.destroy(client)
      } catch {}
      this.emit(slot, {
        type: 'close',
        clientId: slot.id,
        action: 'destroy',
        reason: `${reason}; close failed`,
      })
    }
  }

  /** Closes every client for good, bounded in time; later use fails with `ClosedError`. */
  async dispose(): Promise<void> {
    this.disposed = true
    this.deadlineWatch.dispose()
    await Promise.all(this.slots.map((slot) => this.close(slot, 'dispose')))
    for (const waiter of this.waiters.splice(0)) waiter.resolve()
  }

  private assertOpen(): void {
    if (this.disposed) {
      throw new ClosedError(`${this.options.packageName}: the client was disposed`, {
        package: this.options.packageName,
      })
    }
  }

  private pickSlot(): Slot<TClient> | undefined {
    if (this.options.sharing === 'shared') {
      if (this.slots.length === 0) this.slots.push(new Slot(this.nextSlotId++))
      return this.slots[0]
    }
    // The free slot used most recently, one with a client first: its connection is the likeliest
    // to be warm. A loop, not filter and sort: this runs every invocation.
    let withClient: Slot<TClient> | undefined
    let empty: Slot<TClient> | undefined
    for (const slot of this.slots) {
      if (slot.holders !== 0) continue
      if (slot.client !== undefined) {
        if (!withClient || slot.lastUsedAt > withClient.lastUsedAt) withClient = slot
      } else if (!empty || slot.lastUsedAt > empty.lastUsedAt) empty = slot
    }
    if (withClient ?? empty) return withClient ?? empty
    if (this.slots.length < this.options.maxClients) {
      const slot = new Slot<TClient>(this.nextSlotId++)
      this.slots.push(slot)
      return slot
    }
    return undefined
  }

  private waitForSlot(deadline: Deadline): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, deadline }
      this.waiters.push(waiter)
      if (!deadline.bounded) return
      const timer = setTimeout(
        () => {
          const index = this.waiters.indexOf(waiter)
          if (index >= 0) this.waiters.splice(index, 1)
          reject(
            new DeadlineError(
              `${this.options.packageName}: all ${this.options.maxClients} connections of this environment stayed busy until the invocation's deadline; raise maxConnectionsPerEnvironment or lower the concurrency`,
              { package: this.options.packageName },
            ),
          )
        },
        Math.max(0, deadline.remaining()),
      )
      timer.unref()
      waiter.resolve = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  private async validate(slot: Slot<TClient>, client: TClient, deadline: Deadline): Promise<boolean> {
    const { adapter, validateTimeoutMs } = this.options
    const started = Date.now()
    const timeoutMs = deadline.bound(validateTimeoutMs)
    try {
      await withTimeout(
        Promise.resolve(adapter.ping(client, timeoutMs)),
        timeoutMs,
        () => new Error('ping timed out'),
        keepAlive,
      )
      slot.lastUsedAt = Date.now()
      this.emit(slot, { type: 'validate', clientId: slot.id, ok: true, durationMs: Date.now() - started })
      return true
    } catch (error) {
      this.emit(slot, {
        type: 'validate',
        clientId: slot.id,
        ok: false,
        durationMs: Date.now() - started,
        error: describeError(error),
      })
      return false
    }
  }

  private async open(slot: Slot<TClient>, deadline: Deadline, secret?: SecretSource): Promise<TClient> {
    const { adapter, packageName, retry } = this.options
    const started = Date.now()
    const source = secret === undefined ? this.credentials : new CredentialSource(secret)
    const credentials = source.forConnect()
    let lastFailure = 'fatal' as ConnectFailure
    let capacityRefusals = 0
    let lastCapacityError: unknown
    const attempt = async (attemptNumber: number): Promise<TClient> => {
      let secret: string | undefined
      try {
        secret = await credentials.secret(deadline.bound(this.options.connectTimeoutMs))
      } catch (error) {
        // The provider failed: no connection was tried, and asking it again would not help.
        lastFailure = 'fatal'
        throw error
      }
      // Measured after the provider answered: the connect gets what is left, not more.
      const timeoutMs = deadline.bound(this.options.connectTimeoutMs)
      const connecting = adapter.connect({ secret, timeoutMs, attempt: attemptNumber })
      try {
        const client = await withTimeout(connecting, timeoutMs + 50, () =>
          Object.assign(new Error(`connect timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }),
        )
        try {
          if (this.options.onOpen) await this.options.onOpen(client, deadline)
        } catch (error) {
          adapter.destroy(client)
          throw error
        }
        return client
      } catch (error) {
        // A connect that completes after its timeout must not leave a socket behind.
        connecting.then((late) => adapter.destroy(late)).catch(() => {})
        lastFailure = adapter.classifyConnectError(error)
        if (lastFailure === 'capacity') {
          capacityRefusals += 1
          lastCapacityError = error
        }
        // An expired token (RDS IAM, ElastiCache) is refreshed once, then the attempt repeats.
        if (lastFailure === 'authentication' && credentials.refreshAfterRejection()) {
          throw Object.assign(redactError(error) as object, { refreshSecret: true })
        }
        throw redactError(error)
      }
    }
    try {
      const client = await retryWithin(
        attempt,
        {
          deadline,
          isRetryable: (error) =>
            (error as { refreshSecret?: boolean }).refreshSecret === true ||
            lastFailure === 'capacity' ||
            lastFailure === 'network',
          onRetry: ({ attempt: failed, delayMs, error }) =>
            this.emit(slot, {
              type: 'retry',
              clientId: slot.id,
              attempt: failed,
              delayMs,
              error: describeError(error),
            }),
        },
        { ...retry, minAttemptMs: 50 },
      )
      slot.client = client
      slot.lastUsedAt = Date.now()
      slot.openedUnderPressure = capacityRefusals > 0
      this.emit(slot, { type: 'open', clientId: slot.id, durationMs: Date.now() - started })
      return client
    } catch (error) {
      const gaveUp = error instanceof RetryGaveUp ? error : new RetryGaveUp(error, 1, 'not-retryable')
      // A full server that made us retry until the deadline is a capacity failure, even if the
      // last, shortened attempt only timed out: the refusal is the news, and its code the one to keep.
      const full = lastFailure === 'capacity' || (capacityRefusals > 0 && gaveUp.reason === 'deadline')
      const cause = full && lastCapacityError !== undefined ? lastCapacityError : gaveUp.lastError
      const waited = Date.now() - started
      const summary = `after ${gaveUp.attempts} attempt(s) in ${waited} ms`
      const options = { package: packageName, cause, attempts: gaveUp.attempts }
      const wrapped = full
        ? new CapacityError(
            `${packageName}: the server has no free connections (${describeError(cause).message}) ${summary}; the fleet needs fewer connections (release: 'auto', a proxy) or the server a higher limit`,
            options,
          )
        : lastFailure === 'authentication'
          ? new AuthenticationError(
              `${packageName}: the server rejected the credentials (${describeError(cause).message}) ${summary}; check the user and password or token provider`,
              options,
            )
          : gaveUp.reason === 'deadline'
            ? new DeadlineError(
                `${packageName}: could not connect before the invocation's deadline (${describeError(cause).message}) ${summary}`,
                options,
              )
            : new ConnectError(
                `${packageName}: could not connect (${describeError(cause).message}) ${summary}`,
                options,
              )
      this.emit(slot, { type: 'error', clientId: slot.id, error: describeError(wrapped) })
      throw redactError(wrapped)
    }
  }
}
