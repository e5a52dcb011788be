import path from 'node:path'
import { LambdaEnvironment, MariaDbServer } from '@middy-downstream/testing'

const fixture = path.resolve('packages/db-connection/test/fixtures/db-handler.mjs')

/** Starts child-process environments running the db-handler fixture, closed by `closeAll`. */
export const environments = () => {
  const started: LambdaEnvironment[] = []
  return {
    start: async (
      server: { port: number },
      options: Record<string, unknown> = {},
      extra: {
        timeoutMs?: number
        user?: string
        password?: string
        functionName?: string
        host?: string
        managedInstances?: { maxConcurrency: number; workers: number }
      } = {},
    ) => {
      const environment = await LambdaEnvironment.start({
        module: fixture,
        timeoutMs: extra.timeoutMs ?? 3000,
        ...(extra.managedInstances ? { managedInstances: extra.managedInstances } : {}),
        env: {
          ...(extra.host ? { DB_HOST: extra.host } : {}),
          DB_PORT: String(server.port),
          DB_OPTIONS: JSON.stringify(options),
          ...(extra.user ? { DB_USER: extra.user } : {}),
          ...(extra.password !== undefined ? { DB_PASSWORD: extra.password } : {}),
          AWS_LAMBDA_FUNCTION_NAME: extra.functionName ?? 'orders',
        },
      })
      started.push(environment)
      return environment
    },
    closeAll: () => Promise.all(started.splice(0).map((e) => e.close())),
  }
}

/** Waits until `condition` holds, polling the server; fails after `timeoutMs`. */
export const eventually = async (
  condition: () => Promise<boolean>,
  timeoutMs = 15_000,
  what = 'condition',
) => {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Ids of connections of `user` currently in the server's process list. */
export const threadsOf = async (server: MariaDbServer, user: string) =>
  (
    await server.sql<{ ID: number; COMMAND: string; TIME: number }[]>(
      'SELECT ID, COMMAND, TIME FROM information_schema.PROCESSLIST WHERE USER = ?',
      [user],
    )
  ).map((row) => ({ id: Number(row.ID), command: row.COMMAND, time: Number(row.TIME) }))

/** A database user without SUPER, as a real application has (SUPER may use the reserved extra connection). */
export const createAppUser = async (server: MariaDbServer, user: string, password: string) => {
  await server.sql(`CREATE USER IF NOT EXISTS '${user}'@'%' IDENTIFIED BY '${password}'`)
  await server.sql(`GRANT ALL ON test.* TO '${user}'@'%'`)
  await server.sql(`GRANT PROCESS ON *.* TO '${user}'@'%'`)
}

export type AttributionMode = 'performance_schema on' | 'performance_schema off'

/**
 * A MariaDB with the application users, in one attribution mode: `performance_schema` on (the
 * users may read connection attributes) or off (MariaDB's default, common on RDS and Aurora).
 * Table `ledger` holds what the fixture's transactions write.
 */
export const startAttributionServer = async (mode: AttributionMode, maxConnections = 20) => {
  const on = mode === 'performance_schema on'
  const server = await MariaDbServer.start({
    maxConnections,
    extraArgs: on ? ['--performance-schema=ON'] : [],
  })
  for (const user of ['app', 'other']) {
    await createAppUser(server, user, `${user}-pw`)
    // Reading connection attributes needs SELECT on performance_schema (see the README).
    if (on) await server.sql(`GRANT SELECT ON performance_schema.* TO '${user}'@'%'`)
  }
  await server.sql(
    'CREATE TABLE test.ledger (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(40), connection_id INT)',
  )
  return server
}

/** How many rows the fixture's transactions committed with this note. */
export const committedRows = async (server: MariaDbServer, note: string) =>
  Number(
    (await server.sql<{ n: number }[]>('SELECT COUNT(*) AS n FROM test.ledger WHERE note = ?', [note]))[0]?.n,
  )
