/** MySQL, MariaDB and Aurora MySQL (mysql2): the default entry of @middy-downstream/db-connection. */

export type { CapacitySample, SqlEngine, StatementFailure } from './engine.js'
export {
  type CreateMysqlConnection,
  classifyConnectError,
  createDbConnection,
  type DbConnectionContext,
  type DbConnectionOptions,
  type DbSession,
  dbConnection,
  dbConnection as default,
  isConnectionLost,
  type ManagedDbConnection,
  type MysqlTransaction,
  mysqlEngine,
  packageName,
  type QueryResult,
  type ReleasableDbSession,
} from './engines/mysql/index.js'
export * from './errors.js'
export { ManagedSqlConnection } from './managed.js'
export { defaults, type ReleasePolicy, type SqlConnectionOptions } from './options.js'
export {
  ReleasableSqlSession,
  type SqlResult,
  SqlSession,
  type StatementOptions,
  TransactionSession,
} from './session.js'
