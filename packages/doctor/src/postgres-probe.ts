import pg from 'pg'
import type { Endpoint } from './endpoint.js'
import type { ServerFacts } from './facts.js'

type Progress = (line: string) => void

const applicationName = 'middy-downstream-doctor'

const connect = async (endpoint: Endpoint, timeoutMs: number): Promise<pg.Client> => {
  const client = new pg.Client({
    host: endpoint.host,
    port: endpoint.port,
    user: endpoint.user,
    ...(endpoint.password === undefined ? {} : { password: endpoint.password }),
    database: endpoint.database ?? endpoint.user,
    connectionTimeoutMillis: timeoutMs,
    application_name: applicationName,
    ...(endpoint.tls === 'disable' ? {} : { ssl: { rejectUnauthorized: endpoint.tls === 'verify-full' } }),
  })
  // An error after connecting (the server going away) must not crash the process.
  client.on('error', () => {})
  await client.connect()
  return client
}

/** A setting's value, or undefined where this version does not have it. */
const setting = async (client: pg.Client, name: string): Promise<string | undefined> => {
  const result = await client.query('SELECT setting, unit FROM pg_settings WHERE name = $1', [name])
  return result.rows[0]?.setting
}

/** A time setting in seconds (pg_settings gives milliseconds or seconds by its unit). */
const seconds = async (client: pg.Client, name: string): Promise<number | undefined> => {
  const result = await client.query('SELECT setting, unit FROM pg_settings WHERE name = $1', [name])
  const row = result.rows[0]
  if (!row) return undefined
  return row.unit === 'ms' ? Number(row.setting) / 1000 : Number(row.setting)
}

const limitOrNull = (value: unknown): number | null => (Number(value) >= 0 ? Number(value) : null)

/**
 * Reads a PostgreSQL server's limits and state over one connection, reporting each step.
 *
 * @example
 * const facts = await probePostgres(parseEndpoint(url), 5000, (line) => console.error(line))
 */
export const probePostgres = async (
  endpoint: Endpoint,
  timeoutMs: number,
  progress: Progress,
): Promise<ServerFacts> => {
  progress(`connecting to ${endpoint.display}`)
  const client = await connect(endpoint, timeoutMs)
  try {
    progress('reading version and limits')
    const role = (
      await client.query(
        `SELECT current_user AS user, version() AS version, r.rolsuper AS super, r.rolconnlimit AS rolelimit, d.datconnlimit AS dblimit
           FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()`,
      )
    ).rows[0]
    const superReserved = Number(await setting(client, 'superuser_reserved_connections'))
    // PostgreSQL 16: reserved_connections, for roles with pg_use_reserved_connections.
    const roleReserved = Number((await setting(client, 'reserved_connections')) ?? 0)
    progress('reading connections by user and state')
    const connections = (
      await client.query(
        `SELECT coalesce(usename, '(unknown)') AS user, coalesce(state, '(not visible)') AS state, count(*)::int AS count
           FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY 1, 2 ORDER BY 1, 2`,
      )
    ).rows.map((row) => ({ user: String(row.user), state: String(row.state), count: Number(row.count) }))
    const idle: Record<string, number> = {}
    for (const name of [
      'idle_session_timeout',
      'idle_in_transaction_session_timeout',
      'tcp_keepalives_idle',
    ]) {
      const value = await seconds(client, name)
      if (value !== undefined) idle[name] = value
    }
    progress('checking the fleet marker')
    const marker = await client.query(
      'SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()',
    )
    progress('checking TLS')
    const tls = (
      await client.query('SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()')
    ).rows[0]
    return {
      engine: 'postgres',
      version: String(role.version)
        .replace(/^PostgreSQL /, '')
        .split(' on ')[0]!,
      endpoint: endpoint.display,
      user: String(role.user),
      userIsAdmin: role.super === true,
      maxConnections: Number(await setting(client, 'max_connections')),
      reserved: {
        count: superReserved + roleReserved,
        source: roleReserved
          ? 'superuser_reserved_connections + reserved_connections'
          : 'superuser_reserved_connections',
        withinMax: true,
      },
      userLimit: limitOrNull(role.rolelimit),
      databaseLimit: limitOrNull(role.dblimit),
      connections,
      allUsersVisible: true,
      idle,
      fleetMarker: {
        readable: marker.rows[0]?.application_name === applicationName,
        via: 'pg_stat_activity.application_name',
      },
      tls: tls?.ssl ? { inUse: true, version: tls.version, cipher: tls.cipher } : { inUse: false },
    }
  } finally {
    await client.end().catch(() => {})
  }
}
