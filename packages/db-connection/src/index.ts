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
export type { CapacitySample } from './capacity.js'
export { classifyConnectError, isConnectionLost } from './classify.js'
export {
  createDbConnection,
  type DbConnectionContext,
  dbConnection,
  dbConnection as default,
  ManagedDbConnection,
} from './db-connection.js'
export { type DbConnectionOptions, defaults, packageName, type ReleasePolicy } from './options.js'
export {
  DbSession,
  type QueryResult,
  ReleasableDbSession,
  type StatementOptions,
  TransactionSession,
} from './session.js'
