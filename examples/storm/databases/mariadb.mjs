// The storm's MariaDB: a private throwaway server with a low max_connections, the application's
// user, and the counters the storm reads (connections now, statements and connects so far).
import { existsSync } from 'node:fs'
import path from 'node:path'
import { MariaDbServer } from '@middy-downstream/testing'

/** The application's database user: no SUPER, so it cannot use the connection MariaDB keeps for admins. */
export const appUser = { user: 'app', password: 'app-pw', database: 'test' }

const searchPath = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']

/**
 * Why a private MariaDB cannot start here (its binaries are missing), or undefined when it can.
 * The same places the testing package looks in.
 */
export const mariaDbMissing = () => {
  const missing = ['mariadbd', 'mariadb-install-db'].filter(
    (binary) => !searchPath.some((dir) => existsSync(path.join(dir, binary))),
  )
  return missing.length === 0
    ? undefined
    : `${missing.join(' and ')} not found: the storm runs a private throwaway MariaDB from the local ` +
        "binaries. Install them with `apt-get install -y mariadb-server` (as root; the Quick start's " +
        '`bash scripts/bootstrap.sh` does it), then run again.'
}

/** One statement that reads the server's counters, and the admin session's own statements. */
const countersSql = `SELECT
  (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'THREADS_CONNECTED') AS threads,
  (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'QUESTIONS') AS questions,
  (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'QUESTIONS') AS ownQuestions,
  (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'CONNECTIONS') AS connects`

/**
 * The server's counters, without the admin connection that reads them: `connections` open now
 * (Threads_connected minus this one), `questions` run by every other session so far (global
 * Questions minus this session's, read in the same statement, so the sampler's own reads never
 * count), `connects` attempted so far (successful or not).
 */
export const readCounters = async (server) => {
  const [row] = await server.sql(countersSql)
  return {
    connections: Number(row.threads) - 1,
    questions: Number(row.questions) - Number(row.ownQuestions),
    connects: Number(row.connects),
  }
}

/**
 * Starts a private MariaDB with the application user; dispose it when done. `performanceSchema`:
 * the server attributes connections to their owners (connection attributes readable by the user),
 * as db-connection's reaping needs; off is MariaDB's default.
 */
export const startDatabase = async ({
  maxConnections = 20,
  performanceSchema = false,
  extraArgs = [],
} = {}) => {
  const missing = mariaDbMissing()
  if (missing) throw Object.assign(new Error(missing), { code: 'MARIADB_MISSING' })
  const server = await MariaDbServer.start({
    maxConnections,
    extraArgs: [...(performanceSchema ? ['--performance-schema=ON'] : []), ...extraArgs],
  })
  const { user, password, database } = appUser
  await server.sql(`CREATE USER IF NOT EXISTS '${user}'@'%' IDENTIFIED BY '${password}'`)
  await server.sql(`GRANT ALL ON ${database}.* TO '${user}'@'%'`)
  // serverless-mysql needs PROCESS to count every connection; db-connection uses it to find zombies.
  await server.sql(`GRANT PROCESS ON *.* TO '${user}'@'%'`)
  if (performanceSchema) await server.sql(`GRANT SELECT ON performance_schema.* TO '${user}'@'%'`)
  return server
}

/** The handlers' DB_* variables for a server. */
export const envFor = (server) => ({
  DB_ENGINE: 'mysql',
  DB_HOST: server.host,
  DB_PORT: String(server.port),
  DB_USER: appUser.user,
  DB_PASSWORD: appUser.password,
  DB_NAME: appUser.database,
})

/** The storm's view of a private MariaDB (see `startStormDatabase`). */
export const startMariaDbStorm = async ({ maxConnections, performanceSchema }) => {
  const server = await startDatabase({ maxConnections, performanceSchema })
  return {
    engine: 'mysql',
    env: envFor(server),
    samplers: { connections: async () => (await readCounters(server)).connections },
    totals: async () => {
      const { questions, connects } = await readCounters(server)
      return { statements: questions, connects }
    },
    sql: (statement) => server.sql(statement),
    ledgerSql: 'CREATE TABLE IF NOT EXISTS test.ledger (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(40))',
    dispose: () => server.dispose(),
  }
}
