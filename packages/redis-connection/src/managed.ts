import {
  Deadline,
  EventSink,
  type LifecycleCounters,
  type ReleaseDisposition,
  registryDelete,
  registryGet,
  Scope,
} from '@middy-downstream/core'
import { type Cluster, Redis as DefaultRedis } from 'ioredis'
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
  private entered = false

  constructor(
    private readonly manager: RedisManager<TClient>,
    readonly deadline: Deadline,
    private readonly policy: ReleasePolicy,
  ) {
    this.lease = new Scope(manager.pool, deadline, { packageName })
  }

  /**
   * The client: created on first use (it connects on its first command), pinged first when it
   * was idle longer than `validateAfterIdleMs`, replaced when its connection is dead.
   */
  async client(): Promise<TClient> {
    if (!this.entered) {
      this.entered = true
      this.manager.enter(this.deadline)
    }
    const client = await this.lease.client()
    this.current = client
    this.manager.setRef(client, true)
    return client
  }

  /** The client, connected: for eager mode, where connection failures belong before the handler. */
  async connected(): Promise<TClient> {
    const client = await this.client()
    await this.manager.waitReady(client, this.deadline)
    return client
  }

  /**
   * Gives the client back under the release policy. A client whose connection is stale (a
   * command timed out), closed or still connecting is always dropped. Never throws.
   */
  async release(): Promise<void> {
    if (!this.entered) return
    this.entered = false
    const { manager } = this
    manager.leave(this.deadline)
    const client = this.current
    this.current = undefined
    let disposition = dispositions[this.policy]
    let reason: string = this.policy
    if (client !== undefined && disposition !== 'destroy') {
      const problem = manager.problemAtRelease(client)
      if (problem) {
        disposition = 'destroy'
        reason = problem
      }
    }
    const clientId = this.lease.clientId
    await this.lease.release(disposition, reason)
    if (client !== undefined && disposition === 'keep' && manager.deadlines.size === 0) {
      manager.setRef(client, false)
    }
    const action = disposition === 'close' ? 'quit' : disposition === 'destroy' ? 'disconnect' : 'keep'
    manager.events.emit({ type: 'release', ...(clientId === undefined ? {} : { clientId }), action, reason })
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
  readonly settings: ClientSettings
  readonly events: EventSink
  private defaultScope?: RedisScope<TClient>

  constructor(options: RedisClientOptions) {
    this.settings = resolveSettings(options, DefaultRedis as unknown as RedisConstructor)
    this.key = settingsKey(this.settings)
    // The counters live as long as the environment, across disposals.
    this.events = registryGet(`${this.key}:events`, () => new EventSink(packageName, this.key))
    this.events.subscribe(options.onEvent)
  }

  /** The environment's manager for these settings, created again after a `dispose()`. */
  get manager(): RedisManager<TClient> {
    return registryGet(this.key, () => new RedisManager<TClient>(this.settings, this.key, this.events))
  }

  /** Running totals: opens, reuses, validations, retries, releases, closes, errors. */
  get counters(): LifecycleCounters {
    return this.events.counters
  }

  /** Starts a unit of work bounded by `deadline` (a `Deadline` or a Lambda context). */
  begin(deadline?: DeadlineSource): RedisScope<TClient> {
    return new RedisScope(this.manager, toDeadline(deadline, this.settings.marginMs), this.settings.release)
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
