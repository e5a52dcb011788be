import type { MiddlewareObj } from '@middy/core'
import type { Context } from 'aws-lambda'
import { createSqlConnection, type ManagedSqlConnection } from '../../managed.js'
import { sqlMiddleware } from '../../middleware.js'
import type { SqlConnectionOptions } from '../../options.js'
import type { ReleasableSqlSession, SqlResult, SqlSession, TransactionSession } from '../../session.js'
import type { DataApiConfig, DataApiTarget } from './client.js'
import { dataApiEngineWith } from './engine.js'
import type { DataApiWriteResult } from './results.js'
import { packageName } from './send.js'

/** The options that mean something only for connections. */
const connectionOnly = [
  'password',
  'passwordFromInternal',
  'createConnection',
  'validateAfterIdleMs',
  'validateTimeoutMs',
  'connectTimeoutMs',
  'closeTimeoutMs',
  'utilizationThreshold',
  'capacityCheckIntervalMs',
  'reapZombies',
  'reapMaxPerInvocation',
  'reapMinIdleSeconds',
  'fleet',
  'proxy',
  'maxConnectionsPerEnvironment',
  'release',
  'functionTimeout',
] as const
type Connectionless = (typeof connectionOnly)[number]

/**
 * Options of the Data API middleware: the Data API settings in `config`, like every engine's
 * driver settings, and the common options that apply (`contextKey`, `marginMs`,
 * `queryTimeoutMs`, `eager`, `onEvent`).
 */
export type DataApiConnectionOptions<TKey extends string = 'db'> = Omit<
  SqlConnectionOptions<DataApiConfig, never, TKey>,
  Connectionless
>
/** The handle on `context.db`: `query`/`execute` (`:name` parameters), `transaction`. */
export type DataApiSession = SqlSession<DataApiTarget, DataApiWriteResult>
export type ReleasableDataApiSession = ReleasableSqlSession<DataApiTarget, DataApiWriteResult>
export type DataApiTransaction = TransactionSession<DataApiTarget, DataApiWriteResult>
/** Rows for a statement that returns rows; `{ numberOfRecordsUpdated, generatedFields? }` for `query<DataApiWriteResult>`. */
export type DataApiQueryResult<T> = SqlResult<T, DataApiWriteResult>
export type ManagedDataApiConnection = ManagedSqlConnection<
  DataApiTarget,
  DataApiConfig,
  DataApiWriteResult,
  never
>
export type DataApiConnectionContext<TKey extends string = 'db'> = Context & { [K in TKey]: DataApiSession }

/** A connection option passed here is a mistake worth saying, not a silent no-op. */
const refuseConnectionOptions = (options: object | undefined): void => {
  const found = Object.keys(options ?? {}).find((k) => (connectionOnly as readonly string[]).includes(k))
  if (found) {
    throw new TypeError(
      `${packageName}: option "${found}" applies to connections and the Data API holds none; remove it (credentials come from config.secretArn)`,
    )
  }
}

/**
 * The Data API client of an environment for a config, created once.
 *
 * @example
 * const db = createDataApiConnection({ config: { resourceArn, secretArn, database: 'shop' } })
 */
export const createDataApiConnection = (
  options: DataApiConnectionOptions<string>,
): ManagedDataApiConnection => {
  refuseConnectionOptions(options)
  return createSqlConnection(dataApiEngineWith(options.retry), options)
}

/**
 * Middy middleware: Aurora's Data API on `context.db`. Statements go over HTTPS; nothing is held
 * between invocations; a resuming cluster is waited for inside the remaining time.
 *
 * @example
 * import middy from '@middy/core'
 * import dbConnection from '@middy-downstream/db-connection/data-api'
 *
 * export const handler = middy<{ id: number }>()
 *   .use(dbConnection({ config: { resourceArn: process.env.CLUSTER_ARN ?? '', secretArn: process.env.SECRET_ARN ?? '', database: 'shop' } }))
 *   .handler(async (event, context) => context.db.query('SELECT * FROM orders WHERE id = :id', { id: event.id }))
 */
export const dbConnection = <const TKey extends string = 'db'>(
  options: DataApiConnectionOptions<TKey>,
): MiddlewareObj<unknown, unknown, Error, DataApiConnectionContext<TKey>> => {
  refuseConnectionOptions(options)
  return sqlMiddleware(dataApiEngineWith(options.retry), options) as MiddlewareObj<
    unknown,
    unknown,
    Error,
    DataApiConnectionContext<TKey>
  >
}

export type { DataApiConfig } from './client.js'
export { type DataApiEngine, dataApiEngine, dataApiEngineWith, resumeRetry } from './engine.js'
export type { DataApiWriteResult } from './results.js'
export { packageName } from './send.js'
