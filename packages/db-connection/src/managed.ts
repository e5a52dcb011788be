import {
  ClientPool,
  Deadline,
  EventSink,
  fingerprint,
  invocationIdsOf,
  registryDelete,
  registryGet,
  Scope,
  type SecretSource,
  validateOptions,
} from '@middy-downstream/core'
import type { SqlEngine } from './engine.js'
import {
  connectionsPerWorker,
  defaults,
  effectiveValidateAfterIdleMs,
  ownerTimeoutSeconds,
  type SqlConnectionOptions,
  schemaFor,
} from './options.js'
import { ReleaseDecider, type ReleaseDecision } from './release-policy.js'
import { ReleasableSqlSession, type SessionShared, type SessionState } from './session.js'

type Settings<TConfig, TCreate> = typeof defaults & SqlConnectionOptions<TConfig, TCreate, string>

/**
 * The release decision that reads the server's capacity (and may reap): statements on the
 * connection, counted in flight, so its socket is referenced while the invocation waits for them
 * (nothing else may keep the process up). Most releases decide without them (`decideNow`).
 */
const decideWithStatements = async <TConn>(
  managed: ManagedSqlConnection<TConn, unknown, unknown, unknown>,
  scope: Scope<TConn>,
  connection: TConn,
  underPressure: boolean,
): Promise<ReleaseDecision> => {
  scope.begin()
  try {
    return await managed.decider.decide(connection, scope.deadline, underPressure)
  } finally {
    scope.end()
  }
}

/**
 * Releases one invocation's connection according to the policy, exactly once. Returns a promise
 * only when the release has something to wait for (a capacity read, a close, a reset): most
 * invocations keep their connection, decided and given back without a turn.
 */
const releaseSession = <TConn>(
  managed: ManagedSqlConnection<TConn, unknown, unknown, unknown>,
  shared: SessionShared<TConn>,
  outcome: 'success' | 'error',
): Promise<void> | undefined => {
  const { scope, state, engine } = shared
  if (scope.released) return undefined
  const connection = scope.current
  // Never used, or dropped during the invocation (lost, timed out): nothing left to clean up.
  if (!scope.acquired || connection === undefined) return scope.release('keep', 'discarded')
  // Uncommitted work of a throwing handler, or a raw connection's unknown state, must not reach
  // the next invocation: the reset at release rolls back and clears the session.
  if (outcome === 'error' || state.rawTaken || state.inTransaction) scope.dirty = true
  if (state.rawTaken && engine.currentUser && engine.currentUser(connection) !== managed.user) {
    return applyDecision(shared, { disposition: 'destroy', reason: 'user-changed' })
  }
  const underPressure = scope.takePressureSignal()
  const now = managed.decider.decideNow(scope.deadline, underPressure)
  if (now) return applyDecision(shared, now)
  return decideWithStatements(managed, scope, connection, underPressure).then((decision) =>
    applyDecision(shared, decision),
  )
}

/** Says what the release decided (the `release` event), then gives the connection back so. */
const applyDecision = <TConn>(
  { scope, events }: SessionShared<TConn>,
  { disposition, reason }: ReleaseDecision,
): Promise<void> | undefined => {
  events.emit(
    { type: 'release', clientId: scope.clientId, action: disposition, reason },
    scope.info.invocation,
  )
  return scope.release(disposition, reason)
}

/**
 * The connections of one environment for one config and engine, shared by every middleware and
 * session created with that config. Create it at module scope (or let the middleware do it).
 */
export class ManagedSqlConnection<TConn, TConfig, THeader, TCreate> {
  readonly events: EventSink
  readonly pool: ClientPool<TConn>
  readonly decider: ReleaseDecider<TConn>
  /** The registry key: a fingerprint of the engine and config without secrets. */
  readonly key: string
  /** The database user the config logs in as (capacity reads and reaping act for it). */
  readonly user: string | undefined
  readonly #engine: SqlEngine<TConn, TConfig, THeader, TCreate, unknown>
  readonly #settings: Settings<TConfig, TCreate>
  /** The secret source of the invocation being served, when it comes from `request.internal`. */

  constructor(
    engine: SqlEngine<TConn, TConfig, THeader, TCreate, unknown>,
    key: string,
    settings: Settings<TConfig, TCreate>,
  ) {
    this.#engine = engine
    this.key = key
    this.#settings = settings
    const { config } = settings
    const { packageName } = engine
    this.user = engine.userOf(config)
    this.events = new EventSink(packageName, key)
    const staticSecret = settings.password ?? (engine.passwordOf(config) as SecretSource)
    const fleet = settings.fleet ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'default'
    this.pool = new ClientPool<TConn>({
      packageName,
      adapter: engine.adapter({
        config: engine.withoutPassword(config),
        fleet,
        ownerTimeoutSeconds: ownerTimeoutSeconds(settings),
        create: settings.createConnection,
      }),
      events: this.events,
      secret: staticSecret ?? '',
      sharing: engine.sharing,
      maxClients: connectionsPerWorker(packageName, settings.maxConnectionsPerEnvironment),
      validateAfterIdleMs: effectiveValidateAfterIdleMs(settings),
      validateTimeoutMs: settings.validateTimeoutMs,
      connectTimeoutMs: settings.connectTimeoutMs,
      closeTimeoutMs: settings.closeTimeoutMs,
      retry: { ...defaults.retry, ...settings.retry },
    })
    this.decider = new ReleaseDecider<TConn>(
      {
        policy: settings.release,
        proxy: settings.proxy,
        utilizationThreshold: settings.utilizationThreshold,
        capacityCheckIntervalMs: settings.capacityCheckIntervalMs,
        reapZombies: settings.reapZombies,
        reapMaxPerInvocation: settings.reapMaxPerInvocation,
        reapMinIdleSeconds: settings.reapMinIdleSeconds,
        user: this.user ?? '',
        database: engine.databaseOf(config),
        fleet,
      },
      this.events,
      engine.capacity,
      packageName,
    )
  }

  /** Running totals of lifecycle events, for metrics. */
  get counters() {
    return this.events.counters
  }

  /** A session for one invocation (or one unit of work outside Lambda); release it when done. */
  session(context?: unknown): ReleasableSqlSession<TConn, THeader> {
    return this.begin(context).session
  }

  /** Closes every connection of this environment for good and forgets this config. */
  async dispose(): Promise<void> {
    registryDelete(this.key)
    await this.pool.dispose()
  }

  /** @internal Used by the middleware: one invocation's scope and its handle. */
  begin(
    context: unknown,
    internalSecret?: SecretSource,
    deadline?: Deadline,
    ids?: { awsRequestId?: string; functionName?: string },
  ) {
    const engine = this.#engine
    const scope = new Scope(this.pool, deadline ?? Deadline.fromContext(context, this.#settings.marginMs), {
      packageName: engine.packageName,
      invocation: ids ?? invocationIdsOf(context),
      ...(internalSecret === undefined ? {} : { secret: internalSecret }),
    })
    const shared: SessionShared<TConn> = {
      engine,
      scope,
      state: { inTransaction: false, rawTaken: false } satisfies SessionState,
      events: this.events,
      queryTimeoutMs: this.#settings.queryTimeoutMs,
      proxy: this.#settings.proxy,
    }
    const release = (outcome: 'success' | 'error') =>
      releaseSession(this as ManagedSqlConnection<TConn, unknown, unknown, unknown>, shared, outcome)
    const session = new ReleasableSqlSession<TConn, THeader>(shared, release)
    return { session, scope, release }
  }

  /** What `JSON.stringify` and `console.log` show: the key and user, never the config or a password. */
  toJSON(): object {
    return { package: this.#engine.packageName, key: this.key, user: this.user, connections: this.pool.size }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `ManagedSqlConnection ${JSON.stringify(this.toJSON())}`
  }
}

/** Checks options at construction (the engine's config included) and fills in the defaults. */
export const normalize = <TConfig, TCreate>(
  engine: SqlEngine<unknown, TConfig, unknown, TCreate, unknown>,
  options: SqlConnectionOptions<TConfig, TCreate, string>,
): Settings<TConfig, TCreate> => {
  const { packageName } = engine
  validateOptions(packageName, schemaFor(engine), options)
  if (options === undefined || options.config === undefined) {
    throw new TypeError(
      `${packageName}: option "config" is required; pass { config: { host, user, database } }`,
    )
  }
  engine.checkConfig(options.config)
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
  return { ...defaults, ...options } as Settings<TConfig, TCreate>
}

/** The fingerprint of a config: the engine and everything that shapes the connection, nothing secret. */
const keyOf = (
  engine: { packageName: string; withoutPassword(config: never): unknown },
  settings: Settings<unknown, unknown>,
): string => {
  const {
    password: _p,
    onEvent: _o,
    contextKey: _k,
    eager: _e,
    passwordFromInternal: _i,
    config,
    ...rest
  } = settings
  return fingerprint('db', {
    engine: engine.packageName,
    config: engine.withoutPassword(config as never),
    ...rest,
  })
}

/**
 * The managed connections for an engine and config, created once per environment: every call
 * with the same config returns the same instance.
 */
export const createSqlConnection = <TConn, TConfig, THeader, TCreate>(
  engine: SqlEngine<TConn, TConfig, THeader, TCreate, unknown>,
  options: SqlConnectionOptions<TConfig, TCreate, string>,
): ManagedSqlConnection<TConn, TConfig, THeader, TCreate> => {
  const settings = normalize(engine as SqlEngine<unknown, TConfig, unknown, TCreate, unknown>, options)
  const key = keyOf(engine, settings as Settings<unknown, unknown>)
  const managed = registryGet(key, () => new ManagedSqlConnection(engine, key, settings))
  managed.events.subscribe(settings.onEvent)
  return managed
}
