import type { Client, ClientConfig } from 'pg'
import type { SqlEngine } from '../../engine.js'
import { serverConfigFields, userFromUrl } from '../../options.js'
import { type CreatePgClient, pgAdapter } from './adapter.js'
import { reapZombies, sampleCapacity } from './capacity.js'
import { changesSession, statementFailure } from './classify.js'
import { type PgWriteResult, runStatement } from './statement.js'

export const packageName = '@middy-downstream/db-connection/postgres'

const control = async (client: Client, sql: string, timeoutMs: number): Promise<undefined> => {
  await runStatement(client, 'query', sql, undefined, timeoutMs)
  return undefined
}

/** PostgreSQL, Aurora PostgreSQL and RDS PostgreSQL through node-postgres (`pg`). */
export const postgresEngine: SqlEngine<Client, ClientConfig, PgWriteResult, CreatePgClient> = {
  packageName,
  sharing: 'exclusive',
  configRule: {
    type: 'shape',
    description: 'an object of pg client options',
    fix: 'pass { config: { host, user, database } }',
    fields: {
      ...serverConfigFields('pass the server name, e.g. host: process.env.PGHOST'),
      connectionString: { type: 'string', nonEmpty: true, fix: 'pass a postgres:// URL' },
      connectionTimeoutMillis: { type: 'number', min: 1, fix: 'use the connectTimeoutMs option' },
    },
  },
  checkConfig: (config) => {
    if (!config.host && !config.connectionString) {
      throw new TypeError(
        `${packageName}: option "config" names no server; pass config.host (or config.connectionString)`,
      )
    }
  },
  passwordOf: (config) => config.password,
  withoutPassword: (config) => ({ ...config, password: undefined }),
  userOf: (config) => config.user ?? userFromUrl(config.connectionString),
  databaseOf: (config) => config.database,
  adapter: ({ config, fleet, ownerTimeoutSeconds, create }) =>
    pgAdapter({ config, fleet, ownerTimeoutSeconds, createClient: create }),
  run: (client, kind, sql, values, timeoutMs, _tx, hooks) =>
    runStatement(client, kind, sql, values, timeoutMs, hooks),
  failure: statementFailure,
  changesSession,
  transaction: {
    begin: (client, timeoutMs) => control(client, 'BEGIN', timeoutMs),
    commit: (client, _tx, timeoutMs) => control(client, 'COMMIT', timeoutMs),
    rollback: (client, _tx, timeoutMs) => control(client, 'ROLLBACK', timeoutMs),
  },
  capacity: { sample: sampleCapacity, reap: reapZombies },
}
