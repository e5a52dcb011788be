export { Deadline, DownstreamError } from '@middy-downstream/core'
export { destroyClient, mongoAdapter } from './adapter.js'
export {
  createMongoConnection,
  MongoConnection,
  type MongoHandle,
  type MongoLease,
} from './connection.js'
export { classifyMongoError, type MongoFailure, wrapMongoError } from './errors.js'
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
