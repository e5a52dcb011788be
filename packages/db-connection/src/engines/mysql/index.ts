import type { MiddlewareObj } from '@middy/core'
import type { Context } from 'aws-lambda'
import type { Connection, ConnectionOptions, ResultSetHeader } from 'mysql2/promise'
import { createSqlConnection, type ManagedSqlConnection } from '../../managed.js'
import { sqlMiddleware } from '../../middleware.js'
import type { SqlConnectionOptions } from '../../options.js'
import type { ReleasableSqlSession, SqlResult, SqlSession, TransactionSession } from '../../session.js'
import { type CreateMysqlConnection, mysqlEngine } from './engine.js'

/** Options of the MySQL middleware: `config` is mysql2's `ConnectionOptions`. */
export type DbConnectionOptions<TKey extends string = 'db'> = SqlConnectionOptions<
  ConnectionOptions,
  CreateMysqlConnection,
  TKey
>

/** The handle on `context.db`: `query`, `execute`, `transaction`, `connection`. */
export type DbSession = SqlSession<Connection, ResultSetHeader>
/** A session used without Middy, with `release()`. */
export type ReleasableDbSession = ReleasableSqlSession<Connection, ResultSetHeader>
/** The `tx` of `context.db.transaction(async (tx) => …)`. */
export type MysqlTransaction = TransactionSession<Connection, ResultSetHeader>
/** Rows for a SELECT (`query<Order>` gives `Order[]`), the result header for a write (`query<ResultSetHeader>`). */
export type QueryResult<T> = SqlResult<T, ResultSetHeader>
/** The connections of one environment for one MySQL config. */
export type ManagedDbConnection = ManagedSqlConnection<
  Connection,
  ConnectionOptions,
  ResultSetHeader,
  CreateMysqlConnection
>

/** The context a handler sees with `dbConnection({ contextKey })`: `context.db` by default. */
export type DbConnectionContext<TKey extends string = 'db'> = Context & { [K in TKey]: DbSession }

/**
 * The managed MySQL connections for a config, created once per environment: every call with the
 * same config returns the same instance.
 *
 * @example
 * export const db = createDbConnection({ config: { host: process.env.DB_HOST, user: 'app', database: 'shop' } })
 * export const handler = async (event, context) => {
 *   const session = db.session(context)
 *   try {
 *     return await session.query('SELECT * FROM orders WHERE id = ?', [event.id])
 *   } finally {
 *     await session.release()
 *   }
 * }
 */
export const createDbConnection = (options: DbConnectionOptions<string>): ManagedDbConnection =>
  createSqlConnection(mysqlEngine, options)

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
): MiddlewareObj<unknown, unknown, Error, DbConnectionContext<TKey>> =>
  sqlMiddleware(mysqlEngine, options) as MiddlewareObj<unknown, unknown, Error, DbConnectionContext<TKey>>

export { classifyConnectError, isConnectionLost } from './classify.js'
export { type CreateMysqlConnection, mysqlEngine, packageName } from './engine.js'
