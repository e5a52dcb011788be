import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import middy from '@middy/core'
import dbConnection, {
  AuthenticationError,
  CapacityError,
  createPgConnection,
  type LifecycleEvent,
  type ManagedPgConnection,
  OperationError,
  type PgConnectionContext,
  type PgConnectionOptions,
  type PgWriteResult,
} from '@middy-downstream/db-connection/postgres'
import { fakeContext, PostgresServer } from '@middy-downstream/testing'
import pg from 'pg'

let server: PostgresServer
const created: ManagedPgConnection[] = []
const held: pg.Client[] = []
let fleetCounter = 0

beforeAll(async () => {
  server = await PostgresServer.start({ auth: 'scram-sha-256', maxConnections: 12 })
  await server.createRole('app', 'app-pw-1')
  await server.createRole('other', 'other-pw-1')
  await server.psql(
    'CREATE TABLE items (id serial PRIMARY KEY, name text); GRANT ALL ON items, items_id_seq TO app',
  )
})
afterEach(async () => {
  await Promise.all(held.splice(0).map((c) => c.end().catch(() => {})))
  await Promise.all(created.splice(0).map((m) => m.dispose()))
})
afterAll(() => server.dispose())

const optionsFor = (extra: Partial<PgConnectionOptions> = {}): PgConnectionOptions => ({
  config: { ...server.config, user: 'app', password: 'app-pw-1' },
  fleet: `pg-${++fleetCounter}`,
  ...extra,
})

const build = (extra: Partial<PgConnectionOptions> = {}) => {
  const options = optionsFor(extra)
  const events: LifecycleEvent[] = []
  const middleware = dbConnection({ ...options, onEvent: (e) => events.push(e) })
  const managed = createPgConnection(options)
  created.push(managed)
  return { middleware, managed, events, options }
}

const context = (timeoutMs = 5_000) => fakeContext({ timeoutMs }) as PgConnectionContext
const backendOf = <T>(middleware: ReturnType<typeof build>['middleware']) =>
  middy<unknown, T, Error, PgConnectionContext>()
    .use(middleware)
    .handler(
      async (_event, ctx) =>
        (await ctx.db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid as T,
    )

const sessions = async (user: string) =>
  server.rows<{ pid: number; state: string; application_name: string }>(
    `SELECT pid, state, application_name FROM pg_stat_activity WHERE usename = '${user}'`,
  )

/** Another application's connection: idle between its own queries. */
const holdConnection = async (user = 'other', password = 'other-pw-1', applicationName = 'other-app') => {
  const client = new pg.Client({ ...server.config, user, password, application_name: applicationName })
  client.on('error', () => {})
  await client.connect()
  held.push(client)
  return client
}

describe('lazy, reused, replaced', () => {
  test('no query opens nothing; warm invocations reuse one connection marked with the fleet', async () => {
    const { middleware, managed, options } = build()
    const idle = middy()
      .use(middleware)
      .handler(async () => 'none')
    await idle({}, context())
    expect(managed.counters.opens).toBe(0)
    const run = backendOf<number>(middleware)
    const pids = new Set<number>()
    for (let i = 0; i < 20; i++) pids.add(await run({}, context()))
    expect(pids.size).toBe(1)
    expect(managed.counters).toMatchObject({ opens: 1, reuses: 19 })
    expect((await sessions('app')).map((s) => s.application_name)).toEqual([`mdd:900:${options.fleet}`])
  })

  test('a connection terminated between invocations (pg_terminate_backend) is replaced silently', async () => {
    const { middleware } = build({ validateAfterIdleMs: 0 })
    const run = backendOf<number>(middleware)
    const first = await run({}, context())
    await server.psql(`SELECT pg_terminate_backend(${first})`)
    const second = await run({}, context())
    expect(second).not.toBe(first)
  })

  test('a server restart between invocations is invisible to the handler', async () => {
    const { middleware } = build()
    const run = backendOf<number>(middleware)
    await run({}, context())
    await server.restart()
    await expect(run({}, context(8_000))).resolves.toEqual(expect.any(Number))
  })
})

describe('statements', () => {
  test('rows for a SELECT, { command, rowCount } for a write, execute is a named prepared statement', async () => {
    const { middleware } = build()
    const handler = middy<unknown, unknown, Error, PgConnectionContext>()
      .use(middleware)
      .handler(async (_event, ctx) => {
        const inserted = await ctx.db.query<{ id: number }>(
          'INSERT INTO items (name) VALUES ($1) RETURNING id',
          ['a'],
        )
        const header = await ctx.db.query<PgWriteResult>('UPDATE items SET name = $1 WHERE id = $2', [
          'b',
          inserted[0]!.id,
        ])
        const prepared = await ctx.db.execute<{ name: string }>('SELECT name FROM items WHERE id = $1', [
          inserted[0]!.id,
        ])
        const again = await ctx.db.execute<{ name: string }>('SELECT name FROM items WHERE id = $1', [
          inserted[0]!.id,
        ])
        return { header, prepared, again }
      })
    expect(await handler({}, context())).toEqual({
      header: { command: 'UPDATE', rowCount: 1 },
      prepared: [{ name: 'b' }],
      again: [{ name: 'b' }],
    })
  })

  test('an SQL error keeps the SQLSTATE in code, with the driver error as cause', async () => {
    const { middleware } = build()
    const handler = middy<unknown, unknown, Error, PgConnectionContext>()
      .use(middleware)
      .handler(async (_event, ctx) => ctx.db.query('SELECT * FROM no_such_table').catch((e: unknown) => e))
    const error = (await handler({}, context())) as OperationError
    expect(error).toBeInstanceOf(OperationError)
    expect(error.code).toBe('42P01')
    expect((error.cause as { code?: string }).code).toBe('42P01')
  })

  test('transactions commit on resolve and roll back on throw', async () => {
    const { middleware } = build()
    const handler = middy<{ fail: boolean }, unknown, Error, PgConnectionContext>()
      .use(middleware)
      .handler(async (event, ctx) =>
        ctx.db.transaction(async (tx) => {
          await tx.query('INSERT INTO items (name) VALUES ($1)', [event.fail ? 'rolled-back' : 'committed'])
          if (event.fail) throw new Error('no')
        }),
      )
    await handler({ fail: false }, context())
    await expect(handler({ fail: true }, context())).rejects.toThrow('no')
    expect(await server.psql("SELECT count(*) FROM items WHERE name = 'committed'")).toBe('1')
    expect(await server.psql("SELECT count(*) FROM items WHERE name = 'rolled-back'")).toBe('0')
  })
})

describe('credentials', () => {
  test('a password provider is called once per new connection; a wrong one fails without showing it', async () => {
    let calls = 0
    const { middleware } = build({
      password: async () => {
        calls += 1
        return 'app-pw-1'
      },
    })
    const run = backendOf<number>(middleware)
    await run({}, context())
    await run({}, context())
    expect(calls).toBe(1)
    const wrong = build({ password: 'Wrong-Secret-xyz' })
    const error = await backendOf<number>(wrong.middleware)({}, context()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AuthenticationError)
    expect((error as AuthenticationError).code).toBe('28P01')
    expect(JSON.stringify(wrong.events)).not.toContain('Wrong-Secret-xyz')
    expect(String((error as Error).stack)).not.toContain('Wrong-Secret-xyz')
  })
})

describe('a full server', () => {
  test('53300 too_many_connections is retried, then a CapacityError with the SQLSTATE, inside the remaining time', async () => {
    // max_connections 12 minus 3 reserved for superusers: 9 for applications.
    for (let i = 0; i < 9; i++) await holdConnection()
    const { middleware, managed } = build()
    const started = Date.now()
    const error = await backendOf<number>(middleware)({}, context(2_000)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CapacityError)
    expect((error as CapacityError).code).toBe('53300')
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(managed.counters.retries).toBeGreaterThan(2)
  })

  test("reaping terminates only this fleet's zombies idle past their owner's timeout: never another application's, never one in a transaction", async () => {
    const { middleware, options } = build({ capacityCheckIntervalMs: 0, utilizationThreshold: 0.5 })
    // Connections of this fleet whose owners declared a 1 s function timeout: zombies after 3 s.
    const shortLived = `mdd:1:${options.fleet}`
    const zombies = [
      await holdConnection('app', 'app-pw-1', shortLived),
      await holdConnection('app', 'app-pw-1', shortLived),
    ]
    const inTransaction = await holdConnection('app', 'app-pw-1', shortLived)
    // An owner with a 60 s timeout may still be between two statements.
    const longLived = await holdConnection('app', 'app-pw-1', `mdd:60:${options.fleet}`)
    await inTransaction.query('BEGIN')
    await inTransaction.query('SELECT 1')
    const bystanders = [await holdConnection(), await holdConnection('app', 'app-pw-1', 'not-lambda')]
    const pidOf = async (c: pg.Client) =>
      (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number
    const zombiePids = await Promise.all(zombies.map(pidOf))
    const keptPids = [
      await pidOf(inTransaction),
      await pidOf(longLived),
      ...(await Promise.all(bystanders.map(pidOf))),
    ]
    // Idle longer than the short owners' floor (1 s + 2 s), far below the long owner's.
    await server.psql('SELECT pg_sleep(3.5)')
    await backendOf<number>(middleware)({}, context())
    const alive = (await sessions('app'))
      .map((s) => s.pid)
      .concat((await sessions('other')).map((s) => s.pid))
    for (const pid of zombiePids) expect(alive).not.toContain(pid)
    for (const pid of keptPids) expect(alive).toContain(pid)
  })
})
