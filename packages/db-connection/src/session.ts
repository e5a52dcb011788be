import {
  ConnectionLostError,
  DeadlineError,
  DownstreamError,
  type EventSink,
  OperationError,
  redactError,
  type Scope,
  TransactionError,
} from '@middy-downstream/core'
import type { Connection, ResultSetHeader } from 'mysql2/promise'
import { changesSession, isConnectionLost, isQueryTimeout, wasNeverSent } from './classify.js'
import { packageName } from './options.js'
import { runStatement, type StatementKind } from './statement.js'

/** Rows for a SELECT (`query<Order>` gives `Order[]`), the result header for a write (`query<ResultSetHeader>`). */
export type QueryResult<T> = T extends ResultSetHeader ? ResultSetHeader : T[]

export interface StatementOptions {
  /**
   * The statement may run twice without harm. Only then is it re-run once on a new connection
   * when the connection is lost while it is in flight (it may already have run).
   * @default false
   */
  idempotent?: boolean
  /** Longest this statement may take; always also bounded by the invocation's remaining time. */
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

const connectionLost = (cause: unknown, what: string) =>
  new ConnectionLostError(
    `${packageName}: the connection was lost while ${what} was in flight; it may or may not have run, so it was not re-run (pass { idempotent: true } if running it twice is harmless)`,
    { package: packageName, cause },
  )

const timedOut = (cause: unknown, timeoutMs: number) =>
  new DeadlineError(
    `${packageName}: the statement did not finish within ${timeoutMs} ms (the invocation's remaining time or queryTimeoutMs); the connection was dropped`,
    { package: packageName, cause },
  )

const failed = (cause: unknown) =>
  new OperationError(`${packageName}: ${(cause as Error)?.message ?? String(cause)}`, {
    package: packageName,
    cause,
  })

/** `query` and `execute`, with one way of running a statement per subclass. */
abstract class Statements {
  /**
   * Runs a statement (text protocol). Rows for a SELECT, the result header for a write.
   * @example const orders = await db.query<Order>('SELECT * FROM orders WHERE id = ?', [id])
   */
  query<T = Record<string, unknown>>(
    sql: string,
    values?: unknown,
    options: StatementOptions = {},
  ): Promise<QueryResult<T>> {
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
  ): Promise<QueryResult<T>> {
    return this.run('execute', sql, values, options)
  }

  protected abstract run<T>(
    kind: Kind,
    sql: string,
    values: unknown,
    options: StatementOptions,
  ): Promise<QueryResult<T>>

  /** What `JSON.stringify` and `console.log` show of a handle: never its connection or config. */
  toJSON(): object {
    return { handle: this.constructor.name }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `${this.constructor.name} {}`
  }
}

/**
 * Statements on a transaction's connection: never re-run, never moved to another connection.
 * Once the transaction has committed or rolled back, its `tx` refuses every statement.
 * @example await context.db.transaction(async (tx) => tx.query('UPDATE stock SET n = n - 1'))
 */
export class TransactionSession extends Statements {
  readonly #connection: Connection
  readonly #scope: Scope<Connection>
  readonly #timeoutFor: (requested?: number) => number
  #ended = false

  constructor(connection: Connection, scope: Scope<Connection>, timeoutFor: (requested?: number) => number) {
    super()
    this.#connection = connection
    this.#scope = scope
    this.#timeoutFor = timeoutFor
  }

  /** @internal The transaction committed or rolled back. */
  end(): void {
    this.#ended = true
  }

  /** @internal START TRANSACTION / COMMIT: ours, ended by us, so they leave no state to reset. */
  control(sql: string): Promise<unknown> {
    return this.send('query', sql, undefined, undefined)
  }

  protected async run<T>(
    kind: Kind,
    sql: string,
    values: unknown,
    options: StatementOptions,
  ): Promise<QueryResult<T>> {
    if (changesSession(sql)) this.#scope.dirty = true
    return (await this.send(kind, sql, values, options.timeoutMs)) as QueryResult<T>
  }

  private async send(
    kind: Kind,
    sql: string,
    values: unknown,
    timeoutMs: number | undefined,
  ): Promise<unknown> {
    this.#scope.assertLive('a transaction handle (tx)')
    if (this.#ended) {
      throw new TransactionError(
        `${packageName}: the transaction has already ended; nothing was sent. Await every tx statement inside the transaction callback`,
        { package: packageName },
      )
    }
    try {
      return await runStatement(this.#connection, kind, sql, values, this.#timeoutFor(timeoutMs))
    } catch (error) {
      redactError(error)
      if (isQueryTimeout(error) || isConnectionLost(error) || wasNeverSent(error)) {
        throw new TransactionError(
          `${packageName}: the transaction's connection was lost or timed out; its work was not committed and nothing was re-run`,
          { package: packageName, cause: error },
        )
      }
      throw failed(error)
    }
  }
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
export class DbSession extends Statements {
  readonly #scope: Scope<Connection>
  readonly #state: SessionState
  readonly #events: EventSink
  readonly #queryTimeoutMs: number

  constructor(scope: Scope<Connection>, state: SessionState, events: EventSink, queryTimeoutMs: number) {
    super()
    this.#scope = scope
    this.#state = state
    this.#events = events
    this.#queryTimeoutMs = queryTimeoutMs
  }

  /**
   * Runs `work` in a transaction on one connection: committed when it resolves, rolled back when
   * it throws. Statements inside are never re-run; if the connection is lost, the transaction
   * fails with a `TransactionError`. While it is open, statements on the handle itself are
   * refused (they would join it).
   */
  async transaction<T>(work: (tx: TransactionSession) => Promise<T>): Promise<T> {
    const scope = this.#scope
    scope.assertLive('context.db.transaction')
    this.refuseInsideTransaction('a transaction is already open in this invocation; use SAVEPOINT inside it')
    // Claimed before the first await: a statement issued meanwhile must not join it.
    this.#state.inTransaction = true
    scope.begin()
    let tx: TransactionSession | undefined
    let committing = false
    try {
      const connection = await scope.client()
      tx = new TransactionSession(connection, scope, (requested) => this.timeoutFor(requested))
      await tx.control('START TRANSACTION')
      const result = await work(tx)
      committing = true
      await tx.control('COMMIT')
      return result
    } catch (error) {
      if (tx && !committing) await this.rollback()
      else if (committing) scope.discard('commit-failed')
      if (committing && error instanceof TransactionError) {
        throw new TransactionError(
          `${packageName}: the connection was lost during COMMIT; the transaction may or may not have been committed`,
          { package: packageName, cause: error.cause },
        )
      }
      throw error
    } finally {
      tx?.end()
      this.#state.inTransaction = false
      scope.end()
    }
  }

  /**
   * The underlying mysql2 promise connection, for what the handle does not cover (streams,
   * `changeUser`…). Its session state is unknown to the middleware, so after the invocation it is
   * reset (COM_RESET_CONNECTION), or dropped if its user was changed.
   */
  async connection(): Promise<Connection> {
    this.#scope.assertLive('context.db.connection')
    const connection = await this.#scope.client()
    this.#state.rawTaken = true
    this.#scope.dirty = true
    this.#scope.hold()
    return connection
  }

  /** Rolls back whatever is open; a connection that cannot roll back is dropped. */
  private async rollback(): Promise<void> {
    const connection = this.#scope.current
    if (!connection) return
    try {
      await runStatement(connection, 'query', 'ROLLBACK', undefined, this.timeoutFor(1_000))
    } catch {
      this.#scope.discard('rollback-failed')
    }
  }

  private refuseInsideTransaction(message: string): void {
    if (this.#state.inTransaction)
      throw new TransactionError(`${packageName}: ${message}`, { package: packageName })
  }

  private timeoutFor(requested?: number): number {
    return this.#scope.deadline.bound(
      Math.min(requested ?? Number.POSITIVE_INFINITY, this.#queryTimeoutMs, 2 ** 31 - 1),
    )
  }

  protected async run<T>(
    kind: Kind,
    sql: string,
    values: unknown,
    options: StatementOptions,
  ): Promise<QueryResult<T>> {
    const scope = this.#scope
    scope.assertLive(`context.db.${kind}`)
    // A statement outside `tx` while a transaction is open would join it on the same connection.
    this.refuseInsideTransaction('a transaction is open: run statements through its tx handle')
    if (changesSession(sql)) scope.dirty = true
    for (let attempt = 1; ; attempt++) {
      const timeout = this.timeoutFor(options.timeoutMs)
      try {
        const rows = await scope.use((connection) => runStatement(connection, kind, sql, values, timeout))
        return rows as QueryResult<T>
      } catch (error) {
        const retry = this.onStatementError(error, attempt, timeout, options)
        if (!retry) throw error
      }
    }
  }

  /**
   * Turns a failed statement into the error to throw, or decides to run it again on a new
   * connection (returns true) when that is safe.
   */
  private onStatementError(
    error: unknown,
    attempt: number,
    timeout: number,
    options: StatementOptions,
  ): true {
    const scope = this.#scope
    redactError(error)
    // Already one of ours: could not connect, ran out of time waiting, used after release.
    if (error instanceof DownstreamError) throw error
    if (isQueryTimeout(error) || (scope.deadline.expired && isConnectionLost(error))) {
      scope.discard('statement-timeout')
      throw timedOut(error, timeout)
    }
    // Refused before it was sent: safe to run on a new connection, idempotent or not.
    if (wasNeverSent(error) && attempt === 1) {
      scope.discard('closed-before-send')
      this.#events.emit({
        type: 'retry',
        attempt,
        delayMs: 0,
        reason: 'connection closed before the statement was sent',
      })
      return true
    }
    if (isConnectionLost(error)) {
      scope.discard('connection-lost')
      if (options.idempotent && attempt === 1 && !scope.deadline.expired) {
        this.#events.emit({
          type: 'retry',
          attempt,
          delayMs: 0,
          reason: 'connection lost; idempotent statement re-run',
        })
        return true
      }
      throw connectionLost(error, 'the statement')
    }
    throw failed(error)
  }
}

/** A session used without Middy: call `release()` when the invocation is done. */
export class ReleasableDbSession extends DbSession {
  readonly #releaser: (outcome: 'success' | 'error') => Promise<void>

  constructor(
    scope: Scope<Connection>,
    state: SessionState,
    events: EventSink,
    queryTimeoutMs: number,
    releaser: (outcome: 'success' | 'error') => Promise<void>,
  ) {
    super(scope, state, events, queryTimeoutMs)
    this.#releaser = releaser
  }

  /**
   * Applies the release policy, once. Pass `'error'` when the work failed, so an open transaction
   * is rolled back. Never throws. Afterwards every use of this session fails with `ReleasedError`.
   */
  release(outcome: 'success' | 'error' = 'success'): Promise<void> {
    return this.#releaser(outcome)
  }
}
