/** PostgreSQL, Aurora PostgreSQL and RDS PostgreSQL (pg): `@middy-downstream/db-connection/postgres`. */

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
export * from './errors.js'
export { defaults, type ReleasePolicy } from './options.js'
export type { StatementOptions } from './session.js'
