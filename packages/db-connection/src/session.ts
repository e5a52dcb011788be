import {
  ConnectionLostError,
  DeadlineError,
  DownstreamError,
  type EventSink,
  type Lease,
  OperationError,
  redactError,
  TransactionError,
} from '@middy-downstream/core'
import type { Connection, ResultSetHeader } from 'mysql2/promise'
import { isConnectionLost, isQueryTimeout, wasNeverSent } from './classify.js'
import { packageName } from './options.js'
import { runStatement, type StatementKind } from './statement.js'

/** Rows for a SELECT (`query<Order>` gives `Order[]`), the result header for a write (`query<ResultSetHeader>`). */
export type QueryResult<T> = T extends ResultSetHeader ? ResultSetHeader : T[]

export interface StatementOptions {
  /**
   * The statement may run twice without harm. Only then is it re-run once on a new connection
   * when the connection is lost while it is in flight (it may already have run).
   */
  idempotent?: boolean
  /** Longest this statement may take; always also bounded by the invocation's remaining time. */
  timeoutMs?: number
}

type Kind = StatementKind

/** Per-invocation state the release policy needs. */
export interface SessionState {
  inTransaction: boolean
  /** The handler took the raw connection: its transaction state is unknown. */
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
}

/**
 * Statements on a transaction's connection: never re-run, never moved to another connection.
 * @example await context.db.transaction(async (tx) => tx.query('UPDATE stock SET n = n - 1'))
 */
export class TransactionSession extends Statements {
  constructor(
    private readonly connection: Connection,
    private readonly timeoutFor: (requested?: number) => number,
  ) {
    super()
  }

  protected async run<T>(
    kind: Kind,
    sql: string,
    values: unknown,
    options: StatementOptions,
  ): Promise<QueryResult<T>> {
    const timeout = this.timeoutFor(options.timeoutMs)
    try {
      return (await runStatement(this.connection, kind, sql, values, timeout)) as QueryResult<T>
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
 * first statement, checked and replaced when dead, and released after the invocation.
 *
 * @example
 * const orders = await context.db.query<Order>('SELECT * FROM orders WHERE id = ?', [id])
 * await context.db.transaction(async (tx) => {
 *   await tx.query('UPDATE stock SET n = n - 1 WHERE id = ?', [id])
 *   await tx.query('INSERT INTO orders (item) VALUES (?)', [id])
 * })
 */
export class DbSession extends Statements {
  constructor(
    protected readonly lease: Lease<Connection>,
    protected readonly state: SessionState,
    private readonly events: EventSink,
    private readonly queryTimeoutMs: number,
  ) {
    super()
  }

  /**
   * Runs `work` in a transaction on one connection: committed when it resolves, rolled back when
   * it throws. Statements inside are never re-run; if the connection is lost, the transaction
   * fails with a `TransactionError`.
   */
  async transaction<T>(work: (tx: TransactionSession) => Promise<T>): Promise<T> {
    if (this.state.inTransaction) {
      throw new TransactionError(
        `${packageName}: a transaction is already open in this invocation; use SAVEPOINT inside it`,
        {
          package: packageName,
        },
      )
    }
    const connection = await this.lease.client()
    const tx = new TransactionSession(connection, (requested) => this.timeoutFor(requested))
    this.state.inTransaction = true
    this.lease.inFlight += 1
    let committing = false
    try {
      await tx.query('START TRANSACTION')
      const result = await work(tx)
      committing = true
      await tx.query('COMMIT')
      return result
    } catch (error) {
      if (!committing) await this.rollback(connection)
      else this.lease.discard('commit-failed')
      if (committing && error instanceof TransactionError) {
        throw new TransactionError(
          `${packageName}: the connection was lost during COMMIT; the transaction may or may not have been committed`,
          { package: packageName, cause: error.cause },
        )
      }
      throw error
    } finally {
      this.state.inTransaction = false
      this.lease.inFlight -= 1
    }
  }

  /**
   * The underlying mysql2 promise connection, for what the handle does not cover (streams,
   * `changeUser`…). Its transaction state is unknown to the middleware, so it is rolled back
   * after the invocation.
   */
  async connection(): Promise<Connection> {
    const connection = await this.lease.client()
    this.state.rawTaken = true
    return connection
  }

  /** Rolls back whatever is open; a connection that cannot roll back is dropped. */
  protected async rollback(connection: Connection): Promise<void> {
    try {
      await runStatement(connection, 'query', 'ROLLBACK', undefined, this.timeoutFor(1_000))
    } catch {
      this.lease.discard('rollback-failed')
    }
  }

  protected timeoutFor(requested?: number): number {
    return this.lease.deadline.bound(
      Math.min(requested ?? Number.POSITIVE_INFINITY, this.queryTimeoutMs, 2 ** 31 - 1),
    )
  }

  protected async run<T>(
    kind: Kind,
    sql: string,
    values: unknown,
    options: StatementOptions,
  ): Promise<QueryResult<T>> {
    if (this.state.inTransaction) {
      // A statement outside `tx` while a transaction is open would join it on the same connection.
      throw new TransactionError(
        `${packageName}: a transaction is open: run statements through its tx handle`,
        {
          package: packageName,
        },
      )
    }
    for (let attempt = 1; ; attempt++) {
      const timeout = this.timeoutFor(options.timeoutMs)
      try {
        const rows = await this.lease.use((connection) =>
          runStatement(connection, kind, sql, values, timeout),
        )
        return rows as QueryResult<T>
      } catch (error) {
        redactError(error)
        // Already one of ours: could not connect, ran out of time waiting for a connection.
        if (error instanceof DownstreamError) throw error
        if (isQueryTimeout(error)) {
          this.lease.discard('statement-timeout')
          throw timedOut(error, timeout)
        }
        // Refused before it was sent: safe to run on a new connection, idempotent or not.
        if (wasNeverSent(error) && attempt === 1) {
          this.lease.discard('closed-before-send')
          this.events.emit({
            type: 'retry',
            attempt,
            delayMs: 0,
            reason: 'connection closed before the statement was sent',
          })
          continue
        }
        if (isConnectionLost(error)) {
          this.lease.discard('connection-lost')
          if (options.idempotent && attempt === 1 && !this.lease.deadline.expired) {
            this.events.emit({
              type: 'retry',
              attempt,
              delayMs: 0,
              reason: 'connection lost; idempotent statement re-run',
            })
            continue
          }
          throw connectionLost(error, 'the statement')
        }
        throw failed(error)
      }
    }
  }
}

/** A session used without Middy: call `release()` when the invocation is done. */
export class ReleasableDbSession extends DbSession {
  constructor(
    lease: Lease<Connection>,
    state: SessionState,
    events: EventSink,
    queryTimeoutMs: number,
    private readonly releaser: (outcome: 'success' | 'error') => Promise<void>,
  ) {
    super(lease, state, events, queryTimeoutMs)
  }

  /**
   * Applies the release policy. Pass `'error'` when the work failed, so an open transaction is
   * rolled back. Never throws.
   */
  release(outcome: 'success' | 'error' = 'success'): Promise<void> {
    return this.releaser(outcome)
  }
}
