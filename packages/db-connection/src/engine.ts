import type { ConnectionAdapter, Deadline, EventSink, OptionRule, SettleHooks } from '@middy-downstream/core'

/** What a failed statement means for the statement and its connection. */
export type StatementFailure =
  /** The statement's own deadline passed; the connection's state is unknown. */
  | 'timeout'
  /** The connection broke while the statement was in flight: it may or may not have run. */
  | 'lost'
  /** The driver refused to send it (the connection was already closed): safe to run elsewhere. */
  | 'never-sent'
  /** The server answered with an error: the connection is fine. */
  | 'operation'

export type StatementKind = 'query' | 'execute'

/** How full the server is, read by one statement at an interval. */
export interface CapacitySample {
  maxConnections: number
  usedConnections: number
  /** 0 when the server sets no per-user limit. */
  maxUserConnections: number
  userConnections: number
  utilization: number
  sampledAt: number
}

type Counts = Omit<CapacitySample, 'utilization' | 'sampledAt'>

/** How full the server is for us: the larger of its share used and the user's share of its limit. */
export const utilizationOf = (counts: Counts): number =>
  Math.max(
    counts.maxConnections > 0 ? counts.usedConnections / counts.maxConnections : 0,
    counts.maxUserConnections > 0 ? counts.userConnections / counts.maxUserConnections : 0,
  )

/** A sample taken now from the counts an engine read. */
export const capacitySample = (counts: Counts): CapacitySample => ({
  ...counts,
  utilization: utilizationOf(counts),
  sampledAt: Date.now(),
})

/**
 * Whether this server attributes connections to their owners (shows our fleet marker and each
 * owner's declared timeout). `unknown`: the probe failed for a reason that says nothing about the
 * server (a timeout, a lost connection): ask again later, and reap nothing meanwhile.
 */
export type Attribution = 'attributed' | 'unattributed' | 'unknown'

export interface ReapOptions {
  user: string
  database: string | undefined
  fleet: string
  /** The reaper's own lower bound (`reapMinIdleSeconds`); each candidate's owner timeout applies on top. */
  minIdleSeconds: number
  max: number
  deadline: Deadline
  events: EventSink
}

/** What one reaping pass found and did. */
export interface ReapResult {
  /** Whether the server attributed connections in this pass; nothing is killed unless `attributed`. */
  attribution: Attribution
  killed: number
  /**
   * No connection of the fleet can become a candidate sooner than this (ms from now): the next
   * pass before then would find nothing. Undefined when the engine cannot tell.
   */
  quietForMs?: number
}

/** The shortest floor any connection can have: a 1 s function timeout plus the slack. */
export const shortestFloorSeconds = (minIdleSeconds: number, slackSeconds: number): number =>
  Math.max(minIdleSeconds, 1 + slackSeconds)

/** What the `auto` release policy needs from an engine that holds server connections. */
export interface CapacityOps<TConn> {
  /** Reads the server's limits and how many connections are in use. */
  sample(connection: TConn, user: string, timeoutMs: number): Promise<CapacitySample>
  /**
   * In one pass: whether the server shows this fleet's marker and owners' timeouts, and if so
   * kills this fleet's idle connections, each idle longer than ITS OWNER's declared timeout +
   * slack. A failure that says nothing about the server (a timeout, a lost connection) is
   * `attribution: 'unknown'` with nothing killed; other failures throw.
   */
  reap(connection: TConn, options: ReapOptions): Promise<ReapResult>
}

/** What an engine's adapter is built from: the driver config (no password) and the fleet marker. */
export interface AdapterArgs<TConfig, TCreate> {
  config: TConfig
  fleet: string
  /** This function's timeout in seconds, declared on each connection for other reapers. */
  ownerTimeoutSeconds: number
  create: TCreate | undefined
}

/**
 * One database driver, as the generic SQL layer (session, transactions, release policy,
 * reaping, middleware) uses it. MySQL (mysql2), PostgreSQL (pg) and the Aurora Data API are
 * engines; the lifecycle around them lives once, in core and in this package's generic files.
 *
 * `TConn` is the driver's connection, `TConfig` its config, `THeader` the result of a write
 * (mysql2's `ResultSetHeader`), `TTx` what a transaction carries between its statements.
 */
export interface SqlEngine<TConn, TConfig, THeader, TCreate = unknown, TTx = undefined> {
  /** The package (or subpath) name, for messages and events. */
  packageName: string
  /** `exclusive`: one connection per in-flight invocation; `shared`: one client for all (HTTP). */
  sharing: 'exclusive' | 'shared'
  /** How `config` is checked at construction (a core `shape` rule naming the driver's fields). */
  configRule: OptionRule & { fix?: string }
  /** Extra config checks that need more than one field (a server must be named). */
  checkConfig(config: TConfig): void
  /** The password in the config, if any (left out of the adapter's config and fingerprint). */
  passwordOf(config: TConfig): unknown
  /** The config without its password. */
  withoutPassword(config: TConfig): TConfig
  /** The database user the config logs in as (for capacity and reaping), if known. */
  userOf(config: TConfig): string | undefined
  databaseOf(config: TConfig): string | undefined
  adapter(args: AdapterArgs<TConfig, TCreate>): ConnectionAdapter<TConn>
  /**
   * Runs one statement: rows for a query that returns rows, the engine's header for a write.
   * `hooks.settled` runs as it settles, inside its one promise (the scope's in-flight count): see
   * core's `settleWithin`.
   */
  run(
    connection: TConn,
    kind: StatementKind,
    sql: string,
    values: unknown,
    timeoutMs: number,
    tx: TTx | undefined,
    hooks?: SettleHooks,
  ): Promise<unknown>
  failure(error: unknown): StatementFailure
  /** A cheap test: does this statement leave state on the session (variables, locks, temp tables)? */
  changesSession(sql: string): boolean
  transaction: {
    begin(connection: TConn, timeoutMs: number): Promise<TTx>
    commit(connection: TConn, tx: TTx, timeoutMs: number): Promise<void>
    rollback(connection: TConn, tx: TTx | undefined, timeoutMs: number): Promise<void>
  }
  /** The user a connection is logged in as now: a raw handle may have switched it. */
  currentUser?(connection: TConn): string | undefined
  /** Capacity reads and reaping, for engines that hold server connections. */
  capacity?: CapacityOps<TConn>
  /** Phantom: the write-result type, for typing `query`. */
  readonly header?: THeader
}

/** An engine of any driver, as the generic layer stores it. */
// biome-ignore lint/suspicious/noExplicitAny: the generic layer is typed through its own parameters
export type AnySqlEngine = SqlEngine<any, any, any, any, any>
