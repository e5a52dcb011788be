import {
  Deadline,
  EventSink,
  invocationIdsOf,
  type LifecycleCounters,
  type ReleaseDisposition,
  registryDelete,
  registryGet,
  Scope,
} from '@middy-downstream/core'
import { type Cluster, Redis as DefaultRedis } from 'ioredis'
import { handleFor } from './handle.js'
import { RedisManager } from './manager.js'
import {
  type ClientSettings,
  type ClusterConfig,
  checkOptions,
  packageName,
  type RedisClient,
  type RedisClientOptions,
  type RedisConstructor,
  type ReleasePolicy,
  resolveSettings,
  settingsKey,
} from './options.js'

/**
 * A deadline, a Lambda context (its remaining time minus `marginMs`), or nothing (no deadline).
 *
 * @example
 * await managed.client(context) // or: managed.client(new Deadline(Date.now() + 500))
 */
export type DeadlineSource = Deadline | object | undefined

const dispositions: Record<ReleasePolicy, ReleaseDisposition> = {
  keep: 'keep',
  close: 'close',
  quit: 'close',
  disconnect: 'destroy',
}

/**
 * One unit of work's (an invocation's) claim on the shared client: while it holds the client,
 * its deadline bounds every command and reconnect; `release()` keeps, quits or drops the client.
 *
 * @example
 * const scope = managed.begin(context)
 * try {
 *   const redis = await scope.client()
 *   await redis.get('k')
 * } finally {
 *   await scope.release()
 * }
 */
export class RedisScope<TClient extends RedisClient = DefaultRedis> {
  private readonly lease: Scope<TClient>
  private current?: TClient
  private handle?: TClient
  private entered = false

  constructor(
    private readonly manager: RedisManager<TClient>,
    readonly deadline: Deadline,
    private readonly policy: ReleasePolicy,
    invocation?: { awsRequestId?: string; functionName?: string },
  ) {
    this.lease = new Scope(manager.pool, deadline, { packageName, ...(invocation ? { invocation } : {}) })
  }

  /** Whether the unit of work ended: every use of its handle now fails with `ReleasedError`. */
  get released(): boolean {
    return this.lease.released
  }

  /** The error a use after release gets; `what` names the use. */
  releasedError(what: string): Error {
    try {
      this.lease.assertLive(what)
    } catch (error) {
      return error as Error
    }
    return new Error(`${packageName}: ${what} was used while the invocation was live`)
  }

  /**
   * The client for this unit of work: created on first use (it connects on its first command),
   * pinged first when it was idle longer than `validateAfterIdleMs`, replaced when its connection
   * is dead. It is this unit's handle over the shared client: after `release()` every call on it
   * fails at once with `ReleasedError`.
   */
  async client(): Promise<TClient> {
    if (this.lease.released) throw this.releasedError('the client')
    this.enter()
    return this.handleOf(await this.lease.client())
  }

  /**
   * The handle without waiting, when the client is at hand (used a moment ago, nothing to check):
   * the warm path of back-to-back invocations. `undefined`: use `client()`.
   */
  clientNow(): TClient | undefined {
    const client = this.lease.clientNow()
    if (client === undefined) return undefined
    this.enter()
    return this.handleOf(client)
  }

  /** The invocation's deadline bounds the client's commands from its first use until release. */
  private enter(): void {
    if (this.entered) return
    this.entered = true
    this.manager.enter(this.deadline)
  }

  /** This invocation's handle over `client`, made again when the client was replaced. */
  private handleOf(client: TClient): TClient {
    if (client !== this.current || !this.handle) {
      this.current = client
      this.handle = handleFor(client, this)
    }
    return this.handle
  }

  /** The client, connected: for eager mode, where connection failures belong before the handler. */
  async connected(): Promise<TClient> {
    const handle = await this.client()
    await this.manager.waitReady(this.current as TClient, this.deadline)
    return handle
  }

  /**
   * Gives the client back under the release policy: kept (returned to a clean state first when
   * the invocation left state on it: an open MULTI, a WATCH, another database), quit or dropped.
   * A client whose connection is stale (a command timed out), closed, still connecting, or in
   * subscriber or monitor mode is always dropped. Never throws.
   */
  release(): Promise<void> {
    try {
      return Promise.resolve(this.releaseNow())
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * @internal `release()` for the middleware: a promise only when there is something to wait for
   * (a QUIT, a reset); a kept client is given back at once, without a turn.
   */
  releaseNow(): Promise<void> | undefined {
    if (!this.entered) return undefined
    this.entered = false
    const { manager } = this
    manager.leave(this.deadline)
    const client = this.current
    this.current = undefined
    this.handle = undefined
    let disposition = dispositions[this.policy]
    let reason: string = this.policy
    if (client !== undefined && disposition !== 'destroy') {
      const problem = manager.problemAtRelease(client)
      if (problem) {
        disposition = 'destroy'
        reason = problem
      } else if (disposition === 'keep') {
        this.lease.dirty = manager.needsReset(client)
      }
    }
    const clientId = this.lease.clientId
    const pending = this.lease.release(disposition, reason)
    const action = disposition === 'close' ? 'quit' : disposition === 'destroy' ? 'disconnect' : 'keep'
    const announce = () =>
      manager.events.emit(
        { type: 'release', ...(clientId === undefined ? {} : { clientId }), action, reason },
        this.lease.info.invocation,
      )
    if (pending !== undefined) return pending.then(announce)
    announce()
    return undefined
  }

  /** What a logged scope shows: no client, no settings, no secret. */
  toJSON(): object {
    return { released: this.released, policy: this.policy, deadline: this.deadline.expiresAt }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `RedisScope ${JSON.stringify(this.toJSON())}`
  }
}

const toDeadline = (source: DeadlineSource, marginMs: number): Deadline => {
  if (source instanceof Deadline) return source
  if (source === undefined) return Deadline.none()
  return Deadline.fromContext(source, marginMs)
}

/**
 * The managed ioredis client without Middy: one per environment and config (module scope),
 * shared by every `createRedisClient` and middleware with the same connection settings.
 *
 * @example
 * const redis = createRedisClient({ url: process.env.REDIS_URL })
 * export const handler = async (event, context) => {
 *   try {
 *     const client = await redis.client(context) // bounded by the remaining time
 *     return await client.get(event.key)
 *   } finally {
 *     await redis.release()
 *   }
 * }
 */
export class ManagedRedis<TClient extends RedisClient = DefaultRedis> {
  /** The registry key: a fingerprint of the connection settings, secrets replaced by a keyed hash. */
  readonly key: string
  readonly events: EventSink
  /** Private (not just hidden from TypeScript): it holds the password. */
  readonly #settings: ClientSettings
  private defaultScope?: RedisScope<TClient>

  constructor(options: RedisClientOptions) {
    this.#settings = resolveSettings(options, DefaultRedis as unknown as RedisConstructor)
    this.key = settingsKey(this.#settings)
    // The counters live as long as the environment, across disposals.
    this.events = registryGet(`${this.key}:events`, () => new EventSink(packageName, this.key))
    this.events.subscribe(options.onEvent)
  }

  /** The environment's manager for these settings, created again after a `dispose()`. */
  get manager(): RedisManager<TClient> {
    return registryGet(this.key, () => new RedisManager<TClient>(this.#settings, this.key, this.events))
  }

  /** Milliseconds kept back from the invocation's remaining time. */
  get marginMs(): number {
    return this.#settings.marginMs
  }

  /** Running totals: opens, reuses, validations, retries, releases, closes, errors. */
  get counters(): LifecycleCounters {
    return this.events.counters
  }

  /**
   * Starts a unit of work bounded by `deadline` (a `Deadline` or a Lambda context); `invocation`
   * names it on its events.
   */
  begin(
    deadline?: DeadlineSource,
    invocation?: { awsRequestId?: string; functionName?: string },
  ): RedisScope<TClient> {
    const ids =
      invocation ??
      (deadline === undefined || deadline instanceof Deadline ? undefined : invocationIdsOf(deadline))
    return new RedisScope(this.manager, toDeadline(deadline, this.marginMs), this.#settings.release, ids)
  }

  /** The client for the current unit of work (one at a time); `release()` ends it. */
  client(deadline?: DeadlineSource): Promise<TClient> {
    this.defaultScope ??= this.begin(deadline)
    return this.defaultScope.client()
  }

  /** Ends the unit of work `client()` started, under the release policy. */
  async release(): Promise<void> {
    const scope = this.defaultScope
    this.defaultScope = undefined
    await scope?.release()
  }

  /** Closes the client for good (QUIT, bounded by `closeTimeoutMs`); a later use starts a new one. */
  async dispose(): Promise<void> {
    await this.release()
    const manager = this.manager
    registryDelete(this.key)
    await manager.dispose()
  }

  /** What a logged managed client shows: its key and counters, never its settings. */
  toJSON(): object {
    return { key: this.key, counters: this.counters }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `ManagedRedis ${JSON.stringify(this.toJSON())}`
  }
}

/**
 * Creates (or finds, for the same settings) the environment's managed ioredis client, for use
 * without Middy.
 *
 * @example
 * const redis = createRedisClient({ url: 'rediss://cache.example.com:6379', password: tokenProvider })
 * const client = await redis.client(context)
 * await client.set('k', 'v')
 * await redis.release()
 */
export function createRedisClient(
  options: RedisClientOptions & { cluster: ClusterConfig },
): ManagedRedis<Cluster>
export function createRedisClient(options?: RedisClientOptions): ManagedRedis<DefaultRedis>
export function createRedisClient(
  options: RedisClientOptions = {},
): ManagedRedis<Cluster> | ManagedRedis<DefaultRedis> {
  checkOptions(options)
  return options.cluster ? new ManagedRedis<Cluster>(options) : new ManagedRedis<DefaultRedis>(options)
}
