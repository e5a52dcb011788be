import type { Connection, ConnectionOptions, ResultSetHeader } from 'mysql2/promise'
import type { SqlEngine, StatementFailure } from '../../engine.js'
import { serverConfigFields, userFromUrl } from '../../options.js'
import { currentUser, mysqlAdapter } from './adapter.js'
import { sampleCapacity } from './capacity.js'
import { changesSession, isConnectionLost, isQueryTimeout, wasNeverSent } from './classify.js'
import { reapZombies } from './reaping.js'
import { runStatement } from './statement.js'

export const packageName = '@middy-downstream/db-connection'

/** mysql2's `createConnection` (a tracing wrapper, a test double). */
export type CreateMysqlConnection = (options: ConnectionOptions) => Promise<Connection>

const failure = (error: unknown): StatementFailure => {
  if (isQueryTimeout(error)) return 'timeout'
  if (wasNeverSent(error)) return 'never-sent'
  if (isConnectionLost(error)) return 'lost'
  return 'operation'
}

/** MySQL, MariaDB and Aurora MySQL through mysql2's promise API. */
export const mysqlEngine: SqlEngine<Connection, ConnectionOptions, ResultSetHeader, CreateMysqlConnection> = {
  packageName,
  sharing: 'exclusive',
  configRule: {
    type: 'shape',
    description: 'an object of mysql2 connection options',
    fix: 'pass { config: { host, user, database } }',
    fields: {
      ...serverConfigFields('pass the server name, e.g. host: process.env.DB_HOST'),
      socketPath: { type: 'string', nonEmpty: true },
      uri: { type: 'string', nonEmpty: true, fix: 'pass a mysql:// URL' },
      connectTimeout: { type: 'number', min: 1, fix: 'use the connectTimeoutMs option' },
    },
  },
  checkConfig: (config) => {
    if (!config.host && !config.socketPath && !config.uri) {
      throw new TypeError(
        `${packageName}: option "config" names no server; pass config.host (or config.socketPath, or config.uri)`,
      )
    }
  },
  passwordOf: (config) => config.password,
  withoutPassword: (config) => ({ ...config, password: undefined }),
  userOf: (config) => config.user ?? userFromUrl(config.uri),
  databaseOf: (config) => config.database,
  adapter: ({ config, fleet, ownerTimeoutSeconds, create }) =>
    mysqlAdapter({ config, fleet, functionTimeoutSeconds: ownerTimeoutSeconds, createConnection: create }),
  run: (connection, kind, sql, values, timeoutMs, _tx, hooks) =>
    runStatement(connection, kind, sql, values, timeoutMs, hooks),
  failure,
  changesSession,
  transaction: {
    begin: async (connection, timeoutMs) => {
      await runStatement(connection, 'query', 'START TRANSACTION', undefined, timeoutMs)
    },
    commit: async (connection, _tx, timeoutMs) => {
      await runStatement(connection, 'query', 'COMMIT', undefined, timeoutMs)
    },
    rollback: async (connection, _tx, timeoutMs) => {
      await runStatement(connection, 'query', 'ROLLBACK', undefined, timeoutMs)
    },
  },
  currentUser,
  capacity: { sample: sampleCapacity, reap: reapZombies },
}
