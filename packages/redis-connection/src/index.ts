export {
  AuthenticationError,
  CapacityError,
  ClosedError,
  ConnectError,
  ConnectionLostError,
  DeadlineError,
  DownstreamError,
  OperationError,
  ReleasedError,
  TransactionError,
} from '@middy-downstream/core'
export { createRedisClient, type DeadlineSource, ManagedRedis, RedisScope } from './managed.js'
export {
  type ClusterConfig,
  defaults,
  type PasswordSource,
  packageName,
  type RedisClient,
  type RedisClientOptions,
  type RedisConnectionOptions,
  type RedisConstructor,
  type ReleasePolicy,
} from './options.js'
export {
  type RedisConnectionContext,
  type RedisConnectionMiddleware,
  redisConnection,
  redisConnection as default,
} from './redis-connection.js'
