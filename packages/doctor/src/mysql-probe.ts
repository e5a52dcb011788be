import mysql, { type Connection, type RowDataPacket } from 'mysql2/promise'
import type { Endpoint } from './endpoint.js'
import type { ServerFacts } from './facts.js'

/** db-connection's fleet marker attribute (its `fleetAttribute`): the doctor's connection carries it too. */
const fleetAttribute = 'mdd_fleet'

type Progress = (line: string) => void

const connect = (endpoint: Endpoint, timeoutMs: number): Promise<Connection> =>
  mysql.createConnection({
    host: endpoint.host,
    port: endpoint.port,
    user: endpoint.user,
    ...(endpoint.password === undefined ? {} : { password: endpoint.password }),
    ...(endpoint.database === undefined ? {} : { database: endpoint.database }),
    connectTimeout: timeoutMs,
    connectAttributes: { [fleetAttribute]: 'middy-downstream-doctor' },
    ...(endpoint.tls === 'disable' ? {} : { ssl: { rejectUnauthorized: endpoint.tls === 'verify-full' } }),
  })

const rows = async (connection: Connection, sql: string): Promise<RowDataPacket[]> =>
  (await connection.query(sql))[0] as RowDataPacket[]

/** One value, or undefined where the server does not have it (older versions, MariaDB vs MySQL). */
const optional = async (connection: Connection, sql: string): Promise<unknown> => {
  try {
    return Object.values((await rows(connection, sql))[0] ?? {})[0]
  } catch {
    return undefined
  }
}

const status = async (connection: Connection, name: string): Promise<string | undefined> =>
  (await rows(connection, `SHOW SESSION STATUS LIKE '${name}'`))[0]?.Value as string | undefined

/** Whether the server shows connection attributes to this user: db-connection's own check. */
const readMarker = async (connection: Connection): Promise<ServerFacts['fleetMarker']> => {
  const via = 'performance_schema.session_connect_attrs'
  const enabled = await optional(connection, 'SELECT @@performance_schema')
  if (enabled !== undefined && Number(enabled) === 0) {
    return { readable: false, via, why: 'performance_schema is OFF' }
  }
  try {
    const [row] = await rows(
      connection,
      `SELECT COUNT(*) AS n FROM performance_schema.session_connect_attrs
        WHERE PROCESSLIST_ID = CONNECTION_ID() AND ATTR_NAME = '${fleetAttribute}'`,
    )
    return Number(row?.n) > 0
      ? { readable: true, via }
      : {
          readable: false,
          via,
          why: 'the connection attributes are not recorded (performance_schema_session_connect_attrs_size)',
        }
  } catch (error) {
    return { readable: false, via, why: `cannot read it: ${(error as Error).message}` }
  }
}

const userLimit = async (connection: Connection): Promise<number | null> => {
  // The session value is the account's own MAX_USER_CONNECTIONS when set, else the global one.
  const value = Number(await optional(connection, 'SELECT @@SESSION.max_user_connections'))
  return Number.isFinite(value) && value > 0 ? value : null
}

const isAdmin = async (connection: Connection): Promise<boolean> => {
  const grants = (await rows(connection, 'SHOW GRANTS')).map((row) => String(Object.values(row)[0]))
  return grants.some((grant) => /GRANT ALL PRIVILEGES ON \*\.\*|\bSUPER\b|CONNECTION_ADMIN/i.test(grant))
}

/**
 * Reads a MySQL or MariaDB server's limits and state over one connection, reporting each step.
 *
 * @example
 * const facts = await probeMysql(parseEndpoint(url), 5000, (line) => console.error(line))
 */
export const probeMysql = async (
  endpoint: Endpoint,
  timeoutMs: number,
  progress: Progress,
): Promise<ServerFacts> => {
  progress(`connecting to ${endpoint.display}`)
  const connection = await connect(endpoint, timeoutMs)
  try {
    progress('reading version and limits')
    const [limits] = await rows(
      connection,
      'SELECT VERSION() AS version, CURRENT_USER() AS user, @@max_connections AS maxConnections, @@GLOBAL.wait_timeout AS waitTimeout, @@GLOBAL.interactive_timeout AS interactiveTimeout',
    )
    const version = String(limits!.version)
    const account = String(limits!.user)
    const admin = await isAdmin(connection)
    progress('reading connections by user and state')
    const connections = (
      await rows(
        connection,
        'SELECT USER AS user, COMMAND AS state, COUNT(*) AS count FROM information_schema.PROCESSLIST GROUP BY USER, COMMAND ORDER BY USER, COMMAND',
      )
    ).map((row) => ({ user: String(row.user), state: String(row.state), count: Number(row.count) }))
    const threads = Number(await status(connection, 'Threads_connected').catch(() => undefined))
    const visible = connections.reduce((sum, row) => sum + row.count, 0)
    progress('checking the fleet marker')
    const fleetMarker = await readMarker(connection)
    progress('checking TLS')
    const cipher = await status(connection, 'Ssl_cipher')
    const tlsVersion = await status(connection, 'Ssl_version')
    return {
      engine: /mariadb/i.test(version) ? 'mariadb' : 'mysql',
      version,
      endpoint: endpoint.display,
      user: account.slice(0, account.lastIndexOf('@')),
      account: `'${account.slice(0, account.lastIndexOf('@'))}'@'${account.slice(account.lastIndexOf('@') + 1)}'`,
      userIsAdmin: admin,
      maxConnections: Number(limits!.maxConnections),
      reserved: {
        count: 1,
        source: 'one extra connection beyond max_connections for SUPER / CONNECTION_ADMIN',
        withinMax: false,
      },
      userLimit: await userLimit(connection),
      databaseLimit: null,
      connections,
      allUsersVisible: !Number.isFinite(threads) || visible >= threads,
      idle: {
        wait_timeout: Number(limits!.waitTimeout),
        interactive_timeout: Number(limits!.interactiveTimeout),
      },
      fleetMarker,
      tls: cipher
        ? { inUse: true, cipher, ...(tlsVersion ? { version: tlsVersion } : {}) }
        : { inUse: false },
    }
  } finally {
    await connection.end().catch(() => connection.destroy())
  }
}
