/** Aurora MySQL and Aurora PostgreSQL through the Data API: `@middy-downstream/db-connection/data-api`. */
export {
  createDataApiConnection,
  type DataApiConfig,
  type DataApiConnectionContext,
  type DataApiConnectionOptions,
  type DataApiEngine,
  type DataApiQueryResult,
  type DataApiSession,
  type DataApiTransaction,
  type DataApiWriteResult,
  dataApiEngine,
  dataApiEngineWith,
  dbConnection,
  dbConnection as default,
  type ManagedDataApiConnection,
  packageName,
  type ReleasableDataApiSession,
  resumeRetry,
} from './engines/data-api/index.js'
export * from './errors.js'
export type { StatementOptions } from './session.js'
