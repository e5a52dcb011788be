export {
  AuthenticationError,
  CapacityError,
  ClosedError,
  ConnectError,
  ConnectionLostError,
  Deadline,
  DeadlineError,
  DownstreamError,
  OperationError,
  ReleasedError,
  TransactionError,
} from '@middy-downstream/core'
export { destroyClient, mongoAdapter } from './adapter.js'
export { createMongoConnection, MongoConnection } from './connection.js'
export { classifyMongoError, type MongoFailure, wrapMongoError } from './errors.js'
export type { MongoHandle, MongoLease } from './handle.js'
export { type MongoContext, mongoConnection, mongoConnection as default } from './middleware.js'
export {
  defaults,
  lambdaClientDefaults,
  type MongoClientConstructor,
  type MongoConnectionOptions,
  type MongoCredentials,
  type MongoCredentialsSource,
  type MongoReleasePolicy,
  packageName,
} from './options.js'
