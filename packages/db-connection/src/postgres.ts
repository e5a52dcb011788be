/** PostgreSQL, Aurora PostgreSQL and RDS PostgreSQL (pg): `@middy-downstream/db-connection/postgres`. */
export {
  AuthenticationError,
  CapacityError,
  ClosedError,
  ConnectError,
  ConnectionLostError,
  DeadlineError,
  DownstreamError,
  type LifecycleCounters,
  type LifecycleEvent,
  OperationError,
  ReleasedError,
  TransactionError,
} from '@middy-downstream/core'
export {
  type CreatePgClient,
  createPgConnection,
  dbConnection,
  dbConnection as default,
  type ManagedPgConnection,
  type PgConnectionContext,
  type PgConnectionOptions,
  type PgQueryResult,
  type PgSession,
  type PgTransaction,
  type PgWriteResult,
  packageName,
  postgresEngine,
  type ReleasablePgSession,
} from './engines/postgres/index.js'
export { defaults, type ReleasePolicy } from './options.js'
export type { StatementOptions } from './session.js'
