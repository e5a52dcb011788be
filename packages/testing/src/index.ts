export {
  callbackHandlersSupported,
  type EnvironmentOptions,
  exited,
  type FakeContextOptions,
  type FaultMode,
  FaultProxy,
  fakeContext,
  freePort,
  type InvocationResult,
  LambdaEnvironment,
  waitForPort,
} from '@middy-downstream/lambda-sim'
export { makeSelfSignedCertificate, type SelfSignedCertificate } from './certificate.js'
export { DataApiStandIn, type DataApiStandInOptions } from './data-api-standin/index.js'
export { MongoStandIn, type MongoStandInOptions } from './mongo-standin/index.js'
export {
  RicEnvironment,
  type RicEnvironmentOptions,
  type RicExit,
  ricInstalled,
} from './runtime-client/ric-environment.js'
export { RuntimeApiServer, type RuntimeInvocationResult } from './runtime-client/runtime-api.js'
export { type MariaDbOptions, MariaDbServer } from './servers/mariadb.js'
export { PgBouncer, type PgBouncerOptions } from './servers/pgbouncer.js'
export { type PostgresOptions, PostgresServer } from './servers/postgres.js'
export { type RedisOptions, RedisServer } from './servers/redis.js'
export { ServerProcess } from './servers/server-process.js'
export {
  type BlockedRunOutcome,
  blockThreadpool,
  reportWithBlockedThreadpool,
  runWithBlockedThreadpool,
} from './threadpool.js'
