import type { MiddlewareObj, Request } from '@middy/core'
import {
  ClientPool,
  createManagedMiddleware,
  Deadline,
  EventSink,
  fingerprint,
  Lease,
  registryDelete,
  registryGet,
  remainingTimeMs,
  type SecretSource,
  validateOptions,
} from '@middy-downstream/core'
import type { Context } from 'aws-lambda'
import mysql, { type Connection } from 'mysql2/promise'
import { mysqlAdapter } from './mysql-adapter.js'
import { connectionsPerWorker, type DbConnectionOptions, defaults, packageName, schema } from './options.js'
import { ReleaseDecider } from './release-policy.js'
import { type DbSession, ReleasableDbSession, type SessionState } from './session.js'
import { runStatement } from './statement.js'

type Settings = typeof defaults & DbConnectionOptions<string>

/** Releases one invocation's connection according to the policy; never throws. */
const releaseSession = async (
  lease: Lease<Connection>,
  state: SessionState,
  outcome: 'success' | 'error',
  decider: ReleaseDecider,
  events: EventSink,
): Promise<void> => {
  if (!lease.acquired) return
  const connection = lease.current
  if (connection === undefined) {
    // Dropped during the invocation (lost, timed out): nothing left to clean up.
    await lease.release('keep', 'discarded')
    return
  }
  // Uncommitted work of a throwing handler (or of a raw connection) must not reach the next invocation.
  if (outcome === 'error' || state.rawTaken || state.inTransaction) {
    try {
      await runStatement(connection, 'query', 'ROLLBACK', undefined, lease.deadline.bound(1_000))
    } catch {
      events.emit({ type: 'release', clientId: lease.clientId, action: 'destroy', reason: 'rollback-failed' })
      await lease.release('destroy', 'rollback-failed')
      return
    }
  }
  const { disposition, reason } = await decider.decide(connection, lease.deadline, lease.takePressureSignal())
  events.emit({ type: 'release', clientId: lease.clientId, action: disposition, reason })
  await lease.release(disposition, reason)
}

/**
 * The connections of one environment for one config, shared by every middleware and session
 * created with that config. Create it at module scope (or let the middleware do it).
 *
 * @example
 * const db = createDbConnection({ config: { host, user, database }, password: getToken })
 * export const handler = async (event, context) => {
 *   const session = db.session(context)
 *   try {
 *     return await session.query('SELECT * FROM orders WHERE id = ?', [event.id])
 *   } finally {
 *     await session.release()
 *   }
 * }
 */
export class ManagedDbConnection {
  readonly events: EventSink
  readonly pool: ClientPool<Connection>
  readonly decider: ReleaseDecider
  /** The secret source of the invocation being served, when it comes from `request.internal`. */
  private internalSecret?: SecretSource

  constructor(
    readonly key: string,
    readonly settings: Settings,
  ) {
    const { config } = settings
    this.events = new EventSink(packageName, key)
    const staticSecret = settings.password ?? (config.password as string | undefined)
    const fleet = settings.fleet ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'default'
    this.pool = new ClientPool<Connection>({
      packageName,
      adapter: mysqlAdapter({
        config: { ...config, password: undefined },
        fleet,
        createConnection: settings.createConnection ?? mysql.createConnection,
      }),
      events: this.events,
      secret: () => {
        const source = this.internalSecret ?? staticSecret
        return typeof source === 'function' ? source() : (source ?? '')
      },
      sharing: 'exclusive',
      maxClients: connectionsPerWorker(settings.maxConnectionsPerEnvironment),
      validateAfterIdleMs: settings.validateAfterIdleMs,
      validateTimeoutMs: settings.validateTimeoutMs,
      connectTimeoutMs: settings.connectTimeoutMs,
      closeTimeoutMs: settings.closeTimeoutMs,
      retry: { ...defaults.retry, ...settings.retry },
    })
    this.decider = new ReleaseDecider(
      {
        policy: settings.release,
        proxy: settings.proxy,
        utilizationThreshold: settings.utilizationThreshold,
        capacityCheckIntervalMs: settings.capacityCheckIntervalMs,
        reapZombies: settings.reapZombies,
        reapMaxPerInvocation: settings.reapMaxPerInvocation,
        reapMinIdleSeconds: settings.reapMinIdleSeconds,
        user: config.user ?? '',
        database: config.database,
        fleet,
      },
      this.events,
    )
  }

  /** Running totals of lifecycle events, for metrics. */
  get counters() {
    return this.events.counters
  }

  /** A session for one invocation (or one unit of work outside Lambda); release it when done. */
  session(context?: unknown): ReleasableDbSession {
    const { session } = this.begin(context)
    return session
  }

  /** Closes every connection of this environment for good and forgets this config. */
  async dispose(): Promise<void> {
    registryDelete(this.key)
    await this.pool.dispose()
  }

  /** @internal Used by the middleware. */
  begin(context: unknown, internalSecret?: SecretSource) {
    if (internalSecret !== undefined) this.internalSecret = internalSecret
    const remaining = remainingTimeMs(context)
    this.decider.observeInvocation(remaining)
    const lease = new Lease(this.pool, Deadline.fromContext(context, this.settings.marginMs))
    const state: SessionState = { inTransaction: false, rawTaken: false }
    const release = (outcome: 'success' | 'error') =>
      releaseSession(lease, state, outcome, this.decider, this.events)
    const session = new ReleasableDbSession(lease, state, this.events, this.settings.queryTimeoutMs, release)
    return { session, lease, state, release }
  }
}

const normalize = <TKey extends string>(options: DbConnectionOptions<TKey>): Settings => {
  validateOptions(packageName, schema, options)
  if (options === undefined || options.config === undefined) {
    throw new TypeError(
      `${packageName}: option "config" is required; pass { config: { host, user, database } }`,
    )
  }
  if (
    options.retry?.baseMs !== undefined &&
    options.retry.capMs !== undefined &&
    options.retry.capMs < options.retry.baseMs
  ) {
    throw new TypeError(`${packageName}: option "retry.capMs" must be >= retry.baseMs`)
  }
  if (options.password !== undefined && options.passwordFromInternal !== undefined) {
    throw new TypeError(
      `${packageName}: options "password" and "passwordFromInternal" exclude each other; pass one`,
    )
  }
  return { ...defaults, ...options } as Settings
}

/** The fingerprint of a config: everything that shapes the connection, nothing secret. */
const keyOf = (settings: Settings): string => {
  const { password: _p, onEvent: _o, contextKey: _k, eager: _e, createConnection, config, ...rest } = settings
  const { password: _configPassword, ...publicConfig } = config
  return fingerprint('db', { config: publicConfig, ...rest, createConnection: createConnection?.name })
}

/**
 * The managed connections for a config, created once per environment: every call with the same
 * config returns the same instance.
 *
 * @example
 * export const db = createDbConnection({ config: { host: process.env.DB_HOST, user: 'app', database: 'shop' } })
 */
export const createDbConnection = (options: DbConnectionOptions<string>): ManagedDbConnection => {
  const settings = normalize(options)
  const key = keyOf(settings)
  const managed = registryGet(key, () => new ManagedDbConnection(key, settings))
  managed.events.subscribe(settings.onEvent)
  return managed
}

/** The context a handler sees with `dbConnection({ contextKey })`: `context.db` by default. */
export type DbConnectionContext<TKey extends string = 'db'> = Context & { [K in TKey]: DbSession }

/**
 * Middy middleware: a managed MySQL/MariaDB/Aurora MySQL connection on `context.db`, opened on
 * the first query, reused while warm, checked after a freeze, released after each invocation by
 * a policy that watches how full the server is.
 *
 * @example
 * import middy from '@middy/core'
 * import dbConnection from '@middy-downstream/db-connection'
 *
 * export const handler = middy()
 *   .use(dbConnection({ config: { host: process.env.DB_HOST, user: 'app', password: process.env.DB_PASSWORD, database: 'shop' } }))
 *   .handler(async (event, context) => context.db.query('SELECT * FROM orders WHERE id = ?', [event.id]))
 */
export const dbConnection = <const TKey extends string = 'db'>(
  options: DbConnectionOptions<TKey>,
): MiddlewareObj<unknown, unknown, Error, DbConnectionContext<TKey>> => {
  const managed = createDbConnection(options)
  // Middleware-level settings are this middleware's own; the connections may be shared.
  const settings = normalize(options)
  const readInternal = settings.passwordFromInternal
  return createManagedMiddleware({
    name: 'db-connection',
    contextKey: settings.contextKey,
    events: managed.events,
    marginMs: settings.marginMs,
    eager: settings.eager,
    begin: (request: Request) => {
      const internalSecret = readInternal
        ? async () => {
            const value = await (request.internal as Record<string, unknown>)[readInternal]
            if (typeof value !== 'string' || value === '') {
              throw new TypeError(
                `${packageName}: request.internal.${readInternal} holds no password; check the middleware that should put it there (e.g. @middy/rds-signer with setToContext: false) runs before db-connection`,
              )
            }
            return value
          }
        : undefined
      const { session, lease, release } = managed.begin(request.context, internalSecret)
      return {
        handle: session as DbSession,
        acquire: () => lease.client(),
        release,
        over: () => lease.deadline.expiresAt + settings.marginMs < Date.now(),
      }
    },
  }) as MiddlewareObj<unknown, unknown, Error, DbConnectionContext<TKey>>
}
