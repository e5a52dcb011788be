import type { MiddlewareObj } from '@middy/core'
import type { Context } from 'aws-lambda'
import type { Client, ClientConfig } from 'pg'
import { createSqlConnection, type ManagedSqlConnection } from '../../managed.js'
import { sqlMiddleware } from '../../middleware.js'
import type { SqlConnectionOptions } from '../../options.js'
import type { ReleasableSqlSession, SqlResult, SqlSession, TransactionSession } from '../../session.js'
import type { CreatePgClient } from './adapter.js'
import { postgresEngine } from './engine.js'
import type { PgWriteResult } from './statement.js'

/** Options of the PostgreSQL middleware: `config` is pg's `ClientConfig`; `createConnection` makes a `pg.Client`. */
export type PgConnectionOptions<TKey extends string = 'db'> = SqlConnectionOptions<
  ClientConfig,
  CreatePgClient,
  TKey
>
/** The handle on `context.db`: `query` (`$1` placeholders), `execute` (named prepared), `transaction`, `connection`. */
export type PgSession = SqlSession<Client, PgWriteResult>
export type ReleasablePgSession = ReleasableSqlSession<Client, PgWriteResult>
export type PgTransaction = TransactionSession<Client, PgWriteResult>
/** Rows for a statement that returns rows; `{ command, rowCount }` for `query<PgWriteResult>`. */
export type PgQueryResult<T> = SqlResult<T, PgWriteResult>
export type ManagedPgConnection = ManagedSqlConnection<Client, ClientConfig, PgWriteResult, CreatePgClient>
/** The context a handler sees: `context.db` by default. */
export type PgConnectionContext<TKey extends string = 'db'> = Context & { [K in TKey]: PgSession }

/**
 * The managed PostgreSQL connections for a config, once per environment.
 *
 * @example
 * const db = createPgConnection({ config: { host: process.env.PGHOST, user: 'app', database: 'shop' } })
 */
export const createPgConnection = (options: PgConnectionOptions<string>): ManagedPgConnection =>
  createSqlConnection(postgresEngine, options)

/**
 * Middy middleware: a managed PostgreSQL connection on `context.db`, opened on the first query,
 * reused while warm, checked after a freeze, released by how full the server is.
 *
 * @example
 * import middy from '@middy/core'
 * import dbConnection from '@middy-downstream/db-connection/postgres'
 *
 * export const handler = middy<{ id: number }>()
 *   .use(dbConnection({ config: { host: process.env.PGHOST, user: 'app', database: 'shop' } }))
 *   .handler(async (event, context) => context.db.query('SELECT * FROM orders WHERE id = $1', [event.id]))
 */
export const dbConnection = <const TKey extends string = 'db'>(
  options: PgConnectionOptions<TKey>,
): MiddlewareObj<unknown, unknown, Error, PgConnectionContext<TKey>> =>
  sqlMiddleware(postgresEngine, options) as MiddlewareObj<unknown, unknown, Error, PgConnectionContext<TKey>>

export type { CreatePgClient } from './adapter.js'
export { packageName, postgresEngine } from './engine.js'
export type { PgWriteResult } from './statement.js'
