// The storm's PostgreSQL: a private throwaway server whose applications get `maxConnections`
// (max_connections plus the 3 slots PostgreSQL reserves for superusers, which the sampler uses),
// the application's role, and the counters the storm reads: client backends now, statements
// (pg_stat_statements) and connection attempts (the server log's "connection received") so far.
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { PostgresServer } from '@middy-downstream/testing'
import pg from 'pg'
import { appUser } from './mariadb.mjs'

/** superuser_reserved_connections' default: slots only a superuser (the sampler) may take. */
const reserved = 3

const countersSql = `SELECT
  (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid())::int AS connections,
  (SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid WHERE r.rolname = $1)::bigint AS statements`

/** Connection attempts so far: each one the server accepted a socket for, refused ones included. */
const connectsLogged = (server) => {
  const dir = path.join(server.dir, 'data', 'log')
  let count = 0
  for (const file of readdirSync(dir)) {
    count +=
      readFileSync(path.join(dir, file), 'utf8').split('connection received: host=127.0.0.1').length - 1
  }
  return count
}

/** The storm's view of a private PostgreSQL (see `startStormDatabase`). */
export const startPostgresStorm = async ({ maxConnections }) => {
  const server = await PostgresServer.start({
    auth: 'scram-sha-256',
    maxConnections: maxConnections + reserved,
    settings: {
      shared_preload_libraries: 'pg_stat_statements',
      'pg_stat_statements.track': 'all',
      logging_collector: 'on',
      log_connections: 'on',
      log_directory: 'log',
      log_filename: 'postgresql.log',
    },
  })
  const { user, password, database } = { ...appUser, database: server.database }
  try {
    await server.createRole(user, password)
    await server.psql('CREATE EXTENSION pg_stat_statements')
    // serverless-postgres and db-connection terminate the fleet's zombies: same role, no extra grant.
    // The sampler is the superuser over the Unix socket (trust), as the harness's psql is.
    const sampler = new pg.Client({ ...server.config, host: server.dir })
    sampler.on('error', () => {})
    await sampler.connect()
    const read = async () => (await sampler.query(countersSql, [user])).rows[0]
    return {
      engine: 'postgres',
      env: {
        DB_ENGINE: 'postgres',
        DB_HOST: server.host,
        DB_PORT: String(server.port),
        DB_USER: user,
        DB_PASSWORD: password,
        DB_NAME: database,
        DB_MAX_CONNECTIONS: String(maxConnections + reserved),
      },
      samplers: { connections: async () => (await read()).connections },
      totals: async () => ({
        statements: Number((await read()).statements),
        connects: connectsLogged(server),
      }),
      sql: async (statement) => {
        await server.psql(statement)
      },
      ledgerSql: `CREATE TABLE IF NOT EXISTS ledger (id serial PRIMARY KEY, note varchar(40)); GRANT ALL ON ledger, ledger_id_seq TO ${user}`,
      dispose: async () => {
        await sampler.end().catch(() => {})
        await server.dispose()
      },
    }
  } catch (error) {
    await server.dispose()
    throw error
  }
}
