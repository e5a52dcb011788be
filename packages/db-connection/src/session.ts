import {
  ConnectionLostError,
  DeadlineError,
  DownstreamError,
  type EventSink,
  OperationError,
  redactError,
  type Scope,
  TransactionError,
  warnOnce,
} from '@middy-downstream/core'
import type { AnySqlEngine, StatementKind } from './engine.js'

/**
 * Rows for a statement that returns rows (`query<Order>` gives `Order[]`), the engine's result
 * header for a write (`query<ResultSetHeader>` with mysql2).
 */
export type SqlResult<T, THeader> = [THeader] extends [never] ? T[] : T extends THeader ? THeader : T[]

export interface StatementOptions {
  /**
   * The statement may run twice without harm. Only then is it re-run once on a new connection
   * when the connection is lost while it is in flight (it may already have run).
   * @default false
   */
  idempotent?: boolean
  /**
   * Longest this statement may take; always also bounded by the invocation's remaining time.
   * @default the connection's `queryTimeoutMs`
   */
  timeoutMs?: number
}

type Kind = StatementKind

/** Per-invocation state the release policy needs. */
export interface SessionState {
  /** A transaction is starting, open or ending: statements outside its `tx` are refused. */
  inTransaction: boolean
  /** The handler took the raw connection: its session state is unknown. */
  rawTaken: boolean
}

const connectionLost = (packageName: string, cause: unknown, what: string) =>
  new ConnectionLostError(
    `${packageName}: the connection was lost while ${what} was in flight; it may or may not have run, so it was not re-run (pass { idempotent: true } if running it twice is harmless)`,
    { package: packageName, cause },
  )

const timedOut = (packageName: string, cause: unknown, timeoutMs: number) =>
  new DeadlineError(
    `${packageName}: the statement did not finish within ${timeoutMs} ms (the invocation's remaining time or queryTimeoutMs); the connection was dropped`,
    { package: packageName, cause },
  )

const failed = (packageName: string, cause: unknown) =>
  new OperationError(`${packageName}: ${(cause as Error)?.message ?? String(cause)}`, {
    package: packageName,
    cause,
  })

/** `query` and `execute`, with one way of running a statement per subclass. */
export abstract class Statements<THeader> {
  /**
   * Runs a statement (text protocol). Rows for a SELECT, the result header for a write.
   * @example const orders = await db.query<Order>('SELECT * FROM orders WHERE id = ?', [id])
   */
  query<T = Record<string, unknown>>(
    sql: string,
    values?: unknown,
    options: StatementOptions = {},
  ): Promise<SqlResult<T, THeader>> {
    return this.run('query', sql, values, options)
  }

  /**
   * Runs a prepared statement (binary protocol, cached per connection). Same result shape as `query`.
   * @example await db.execute('INSERT INTO log (msg) VALUES (?)', ['shipped'])
   */
  execute<T = Record<string, unknown>>(
    sql: string,
    values?: unknown,
    options: StatementOptions = {},
  ): Promise<SqlResult<T, THeader>> {
    return this.run('execute', sql, values, options)
  }

  protected abstract run<T>(
    kind: Kind,
    sql: string,
    values: unknown,
    options: StatementOptions,
  ): Promise<SqlResult<T, THeader>>

  /** What `JSON.stringify` and `console.log` show of a handle: never its connection or config. */
  toJSON(): object {
    return { handle: this.constructor.name }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `${this.constructor.name} {}`
  }
}

/** What both handles of one invocation share: the engine, the scope and the per-invocation state. */
interface Shared<TConn> {
  engine: AnySqlEngine
  scope: Scope<TConn>
  state: SessionState
  events: EventSink
  queryTimeoutMs: number
  /** Behind a pooler (RDS Proxy, pgbouncer): session state does not survive, or pins the connection. */
  proxy: boolean
}

/**
 * Behind a transaction pooler, session state either leaks to another client's transaction
 * (pgbouncer) or pins the connection for good (RDS Proxy): said once per environment.
 */
const warnSessionStateBehindProxy = (engine: AnySqlEngine, what: string): void =>
  warnOnce(
    'MDD_SESSION_STATE_BEHIND_PROXY',
    `${engine.packageName}: ${what} keeps state on the server session, which a transaction pooler (proxy: true) does not preserve between statements and RDS Proxy answers by pinning the connection; keep such statements inside context.db.transaction(), or avoid them`,
  )

/** Marks the scope for a reset when a statement leaves session state; warns behind a proxy. */
const noteSessionState = (shared: Shared<unknown>, kind: StatementKind, sql: string): void => {
  const { engine } = shared
  if (engine.changesSession(sql)) {
    shared.scope.dirty = true
    if (shared.proxy && !shared.state.inTransaction)
      warnSessionStateBehindProxy(engine, `"${sql.trim().split(/\s+/, 2).join(' ')}"`)
  }
  if (kind === 'execute' && shared.proxy)
    warnSessionStateBehindProxy(engine, 'execute() (a named prepared statement)')
}

const timeoutFor = (shared: Shared<unknown>, requested?: number): number =>
  shared.scope.deadline.bound(
    Math.min(requested ?? Number.POSITIVE_INFINITY, shared.queryTimeoutMs, 2 ** 31 - 1),
  )

/**
 * Statements on a transaction's connection: never re-run, never moved to another connection.
 * Once the transaction has committed or rolled back, its `tx` refuses every statement.
 * @example await context.db.transaction(async (tx) => tx.query('UPDATE stock SET n = n - 1'))
 */
export class TransactionSession<TConn = unknown, THeader = never> extends Statements<THeader> {
  readonly #shared: Shared<TConn>
  readonly #connection: TConn
  readonly #tx: unknown
  #ended = false

  /** @internal Created by `SqlSession.transaction`. */
  constructor(shared: Shared<TConn>, connection: TConn, tx: unknown) {
    super()
    this.#shared = shared
    this.#connection = connection
    this.#tx = tx
  }

  /** @internal The transaction committed or rolled back. */
  end(): void {
    this.#ended = true
  }

  protected async run<T>(
    kind: Kind,
    sql: string,
    values: unknown,
    options: StatementOptions,
  ): Promise<SqlResult<T, THeader>> {
    const { engine, scope } = this.#shared
    scope.assertLive('a transaction handle (tx)')
    if (this.#ended) {
      throw new TransactionError(
        `${engine.packageName}: the transaction has already ended; nothing was sent. Await every tx statement inside the transaction callback`,
        { package: engine.packageName },
      )
    }
    noteSessionState(this.#shared as Shared<unknown>, kind, sql)
    const timeout = timeoutFor(this.#shared as Shared<unknown>, options.timeoutMs)
    try {
      return (await engine.run(this.#connection, kind, sql, values, timeout, this.#tx)) as SqlResult<
        T,
        THeader
      >
    } catch (error) {
      throw transactionFailure(engine, error)
    }
  }
}

/** A statement inside a transaction failed: never re-run; a lost connection fails the transaction. */
const transactionFailure = (engine: AnySqlEngine, error: unknown): unknown => {
  redactError(error)
  if (error instanceof DownstreamError) return error
  if (engine.failure(error) !== 'operation') {
    return new TransactionError(
      `${engine.packageName}: the transaction's connection was lost or timed out; its work was not committed and nothing was re-run`,
      { package: engine.packageName, cause: error },
    )
  }
  return failed(engine.packageName, error)
}

/**
 * The managed database handle of one invocation (`context.db`): the connection is taken on the
 * first statement, checked and replaced when dead, and released after the invocation. After that
 * every use fails at once with a `ReleasedError`.
 *
 * @example
 * const orders = await context.db.query<Order>('SELECT * FROM orders WHERE id = ?', [id])
 * await context.db.transaction(async (tx) => {
 *   await tx.query('UPDATE stock SET n = n - 1 WHERE id = ?', [id])
 *   await tx.query('INSERT INTO orders (item) VALUES (?)', [id])
 * })
 */
export class SqlSession<TConn = unknown, THeader = never> extends Statements<THeader> {
  readonly #shared: Shared<TConn>

  /** @internal Created by the managed connection for one invocation. */
  constructor(shared: Shared<TConn>) {
    super()
    this.#shared = shared
  }

  /**
   * Runs `work` in a transaction on one connection: committed when it resolves, rolled back when
   * it throws. Statements inside are never re-run; if the connection is lost, the transaction
   * fails with a `TransactionError`. While it is open, statements on the handle itself are
   * refused (they would join it).
   */
  async transaction<T>(work: (tx: TransactionSession<TConn, THeader>) => Promise<T>): Promise<T> {
    const { engine, scope, state } = this.#shared
    scope.assertLive('context.db.transaction')
    this.refuseInsideTransaction('a transaction is already open in this invocation; use SAVEPOINT inside it')
    // Claimed before the first await: a statement issued meanwhile must not join it.
    state.inTransaction = true
    scope.begin()
    let connection: TConn | undefined
    let tx: TransactionSession<TConn, THeader> | undefined
    let token: unknown
    let committing = false
    try {
      connection = await scope.client()
      token = await engine.transaction
        .begin(connection, this.timeout(undefined))
        .catch((error: unknown) => Promise.reject(transactionFailure(engine, error)))
      tx = new TransactionSession<TConn, THeader>(this.#shared, connection, token)
      const result = await work(tx)
      committing = true
      await engine.transaction.commit(connection, token, this.timeout(undefined))
      return result
    } catch (error) {
      if (!committing && tx && connection !== undefined) await this.rollback(connection, token)
      if (committing) throw this.commitFailure(error)
      throw error
    } finally {
      tx?.end()
      state.inTransaction = false
      scope.end()
    }
  }

  /**
   * The driver's own connection, for what the handle does not cover (streams, `changeUser`,
   * `LISTEN`…). Its session state is unknown to the middleware, so after the invocation it is
   * reset, or dropped if its user was changed.
   */
  async connection(): Promise<TConn> {
    const { scope, state } = this.#shared
    scope.assertLive('context.db.connection')
    const connection = await scope.client()
    state.rawTaken = true
    scope.dirty = true
    scope.hold()
    return connection
  }

  private commitFailure(error: unknown): unknown {
    const { engine, scope } = this.#shared
    scope.discard('commit-failed')
    if (error instanceof DownstreamError) return error
    redactError(error)
    if (engine.failure(error) === 'operation') return failed(engine.packageName, error)
    return new TransactionError(
      `${engine.packageName}: the connection was lost during COMMIT; the transaction may or may not have been committed`,
      { package: engine.packageName, cause: error },
    )
  }

  /** Rolls back whatever is open; a connection that cannot roll back is dropped. */
  private async rollback(connection: TConn, token: unknown): Promise<void> {
    const { engine, scope } = this.#shared
    try {
      await engine.transaction.rollback(connection, token, this.timeout(1_000))
    } catch {
      scope.discard('rollback-failed')
    }
  }

  private refuseInsideTransaction(message: string): void {
    const { engine, state } = this.#shared
    if (state.inTransaction) {
      throw new TransactionError(`${engine.packageName}: ${message}`, { package: engine.packageName })
    }
  }

  private timeout(requested: number | undefined): number {
    return timeoutFor(this.#shared as Shared<unknown>, requested)
  }

  /**
   * Two promises per statement: the driver's, with the scope's in-flight count run inside it
   * (`settled`), and the one the handler awaits, whose rejection handler turns a failure into our
   * error or a retry. That error is made in a reaction of the very promise the handler awaits, so
   * its stack names the awaiting handler (V8's async stack), with no async function per statement.
   */
  protected run<T>(
    kind: Kind,
    sql: string,
    values: unknown,
    options: StatementOptions,
  ): Promise<SqlResult<T, THeader>> {
    const { scope } = this.#shared
    try {
      scope.assertLive(kind === 'query' ? 'context.db.query' : 'context.db.execute')
      // A statement outside `tx` while a transaction is open would join it on the same connection.
      this.refuseInsideTransaction('a transaction is open: run statements through its tx handle')
      noteSessionState(this.#shared as Shared<unknown>, kind, sql)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.attempt(kind, sql, values, options, 1) as Promise<SqlResult<T, THeader>>
  }

  /** Runs the statement once; a failure safe to run again (see `onStatementError`) runs it again. */
  private attempt(
    kind: Kind,
    sql: string,
    values: unknown,
    options: StatementOptions,
    attempt: number,
  ): Promise<unknown> {
    const { engine, scope } = this.#shared
    const timeout = this.timeout(options.timeoutMs)
    return scope
      .use((connection, settled) =>
        engine.run(connection, kind, sql, values, timeout, undefined, { settled }),
      )
      .then(undefined, (error: unknown) => {
        this.onStatementError(error, attempt, timeout, options)
        return this.attempt(kind, sql, values, options, attempt + 1)
      })
  }

  /**
   * Throws the error a failed statement means, or returns when it is safe to run it again on a
   * new connection.
   */
  private onStatementError(
    error: unknown,
    attempt: number,
    timeout: number,
    options: StatementOptions,
  ): void {
    const { engine, scope, events } = this.#shared
    const { packageName } = engine
    redactError(error)
    // Already one of ours: could not connect, ran out of time waiting, used after release.
    if (error instanceof DownstreamError) throw error
    const failure = engine.failure(error)
    if (failure === 'timeout' || (failure === 'lost' && scope.deadline.expired)) {
      scope.discard('statement-timeout')
      throw timedOut(packageName, error, timeout)
    }
    // Refused before it was sent: safe to run on a new connection, idempotent or not.
    if (failure === 'never-sent' && attempt === 1) {
      scope.discard('closed-before-send')
      events.emit(
        { type: 'retry', attempt, delayMs: 0, reason: 'connection closed before the statement was sent' },
        scope.info.invocation,
      )
      return
    }
    if (failure === 'lost' || failure === 'never-sent') {
      scope.discard('connection-lost')
      if (options.idempotent && attempt === 1 && !scope.deadline.expired) {
        events.emit(
          { type: 'retry', attempt, delayMs: 0, reason: 'connection lost; idempotent statement re-run' },
          scope.info.invocation,
        )
        return
      }
      throw connectionLost(packageName, error, 'the statement')
    }
    throw failed(packageName, error)
  }
}

/** A session used without Middy: call `release()` when the invocation is done. */
export class ReleasableSqlSession<TConn = unknown, THeader = never> extends SqlSession<TConn, THeader> {
  readonly #releaser: (outcome: 'success' | 'error') => Promise<void> | undefined

  /** @internal */
  constructor(shared: Shared<TConn>, releaser: (outcome: 'success' | 'error') => Promise<void> | undefined) {
    super(shared)
    this.#releaser = releaser
  }

  /**
   * Applies the release policy, once. Pass `'error'` when the work failed, so an open transaction
   * is rolled back. Never throws. Afterwards every use of this session fails with `ReleasedError`.
   */
  release(outcome: 'success' | 'error' = 'success'): Promise<void> {
    try {
      return Promise.resolve(this.#releaser(outcome))
    } catch (error) {
      return Promise.reject(error)
    }
  }
}

export type { Shared as SessionShared }
