import type { MiddlewareObj, Request } from '@middy/core'
import {
  ClientPool,
  createManagedMiddleware,
  Deadline,
  EventSink,
  fingerprint,
  invocationIdsOf,
  registryDelete,
  registryGet,
  remainingTimeMs,
  Scope,
  type SecretSource,
  validateOptions,
} from '@middy-downstream/core'
import type { Context } from 'aws-lambda'
import mysql, { type Connection } from 'mysql2/promise'
import { currentUser, mysqlAdapter } from './mysql-adapter.js'
import { type DbConnectionOptions, defaults, packageName, schema } from './options.js'
import { ReleaseDecider } from './release-policy.js'
import { type DbSession, ReleasableDbSession, type SessionState } from './session.js'

type Settings = typeof defaults & DbConnectionOptions<string>

/** Releases one invocation's connection according to the policy, exactly once; never throws. */
const releaseSession = async (
  scope: Scope<Connection>,
  state: SessionState,
  outcome: 'success' | 'error',
  decider: ReleaseDecider,
  events: EventSink,
  user: string | undefined,
): Promise<void> => {
  if (scope.released) return
  const connection = scope.current
  if (!scope.acquired || connection === undefined) {
    // Never used, or dropped during the invocation (lost, timed out): nothing left to clean up.
    await scope.release('keep', 'discarded')
    return
  }
  // Uncommitted work of a throwing handler, or a raw connection's unknown state, must not reach
  // the next invocation: the reset at release rolls back and clears the session.
  if (outcome === 'error' || state.rawTaken || state.inTransaction) scope.dirty = true
  if (state.rawTaken && currentUser(connection) !== user) {
    events.emit({ type: 'release', clientId: scope.clientId, action: 'destroy', reason: 'user-changed' })
    await scope.release('destroy', 'user-changed')
    return
  }
  const { disposition, reason } = await decider.decide(connection, scope.deadline, scope.takePressureSignal())
  events.emit({ type: 'release', clientId: scope.clientId, action: disposition, reason })
  await scope.release(disposition, reason)
}

/** The user a config logs in as: `config.user`, or the one in `config.uri`. */
const userOf = (config: Settings['config']): string | undefined => {
  if (config.user) return config.user
  if (!config.uri) return undefined
  try {
    return decodeURIComponent(new URL(config.uri).username) || undefined
  } catch {
    return undefined
  }
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
  /** The registry key: a fingerprint of the config without secrets. */
  readonly key: string
  readonly #settings: Settings
  readonly #user: string | undefined
  /** The secret source of the invocation being served, when it comes from `request.internal`. */
  #internalSecret?: SecretSource

  constructor(key: string, settings: Settings) {
    this.key = key
    this.#settings = settings
    const { config } = settings
    this.#user = userOf(config)
    this.events = new EventSink(packageName, key)
    const staticSecret = settings.password ?? config.password
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
        const source = this.#internalSecret ?? staticSecret
        return typeof source === 'function' ? source() : (source ?? '')
      },
      sharing: 'exclusive',
      maxClients: settings.maxConnectionsPerEnvironment,
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
        user: this.#user ?? '',
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
    return this.begin(context).session
  }

  /** Closes every connection of this environment for good and forgets this config. */
  async dispose(): Promise<void> {
    registryDelete(this.key)
    await this.pool.dispose()
  }

  /** @internal Used by the middleware: one invocation's scope and its handle. */
  begin(context: unknown, internalSecret?: SecretSource, deadline?: Deadline) {
    if (internalSecret !== undefined) this.#internalSecret = internalSecret
    this.decider.observeInvocation(remainingTimeMs(context))
    const scope = new Scope(this.pool, deadline ?? Deadline.fromContext(context, this.#settings.marginMs), {
      packageName,
      invocation: invocationIdsOf(context),
    })
    const state: SessionState = { inTransaction: false, rawTaken: false }
    const release = (outcome: 'success' | 'error') =>
      releaseSession(scope, state, outcome, this.decider, this.events, this.#user)
    const session = new ReleasableDbSession(scope, state, this.events, this.#settings.queryTimeoutMs, release)
    return { session, scope, release }
  }

  /** What `JSON.stringify` and `console.log` show: the key, never the config or a password. */
  toJSON(): object {
    return { package: packageName, key: this.key, user: this.#user, connections: this.pool.size }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `ManagedDbConnection ${JSON.stringify(this.toJSON())}`
  }
}

const normalize = <TKey extends string>(options: DbConnectionOptions<TKey>): Settings => {
  validateOptions(packageName, schema, options)
  if (options === undefined || options.config === undefined) {
    throw new TypeError(
      `${packageName}: option "config" is required; pass { config: { host, user, database } }`,
    )
  }
  const { host, socketPath, uri } = options.config
  if (!host && !socketPath && !uri) {
    throw new TypeError(
      `${packageName}: option "config" names no server; pass config.host (or config.socketPath, or config.uri)`,
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
  const { password: _p, onEvent: _o, contextKey: _k, eager: _e, config, ...rest } = settings
  const { password: _configPassword, ...publicConfig } = config
  return fingerprint('db', { config: publicConfig, ...rest })
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

/** A secret source that reads `request.internal[key]` (put there by e.g. @middy/rds-signer). */
const internalSecretOf =
  (request: Request, key: string): SecretSource =>
  async () => {
    const value = await (request.internal as Record<string, unknown>)[key]
    if (typeof value !== 'string' || value === '') {
      throw new TypeError(
        `${packageName}: request.internal.${key} holds no password; check the middleware that should put it there (e.g. @middy/rds-signer with setToContext: false) runs before db-connection`,
      )
    }
    return value
  }

/**
 * Middy middleware: a managed MySQL/MariaDB/Aurora MySQL connection on `context.db`, opened on
 * the first query, reused while warm, checked after a freeze, released after each invocation by
 * a policy that watches how full the server is.
 *
 * @example
 * import middy from '@middy/core'
 * import dbConnection from '@middy-downstream/db-connection'
 *
 * export const handler = middy<{ id: number }>()
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
  return createManagedMiddleware<DbSession>({
    name: 'db-connection',
    contextKey: settings.contextKey,
    events: managed.events,
    marginMs: settings.marginMs,
    eager: settings.eager,
    begin: (request, deadline) => {
      const secret = readInternal ? internalSecretOf(request, readInternal) : undefined
      const { session, scope, release } = managed.begin(request.context, secret, deadline)
      return { handle: session, acquire: () => scope.client(), release }
    },
  }) as MiddlewareObj<unknown, unknown, Error, DbConnectionContext<TKey>>
}
