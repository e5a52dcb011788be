/** Aurora MySQL and Aurora PostgreSQL through the Data API: `@middy-downstream/db-connection/data-api`. */
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
  createDataApiConnection,
  type DataApiConfig,
  type DataApiConnectionContext,
  type DataApiConnectionOptions,
  type DataApiQueryResult,
  type DataApiSession,
  type DataApiTransaction,
  type DataApiWriteResult,
  dataApiEngine,
  dbConnection,
  dbConnection as default,
  type ManagedDataApiConnection,
  packageName,
  type ReleasableDataApiSession,
  resumeRetry,
} from './engines/data-api/index.js'
export type { StatementOptions } from './session.js'
