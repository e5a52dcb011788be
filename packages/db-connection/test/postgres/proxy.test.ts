import { afterAll, beforeAll, expect, jest, test } from '@jest/globals'
import middy from '@middy/core'
import dbConnection, {
  createPgConnection,
  type LifecycleEvent,
  type PgConnectionContext,
  type PgConnectionOptions,
} from '@middy-downstream/db-connection/postgres'
import { fakeContext, PgBouncer, PostgresServer } from '@middy-downstream/testing'

let server: PostgresServer
let bouncer: PgBouncer

beforeAll(async () => {
  server = await PostgresServer.start({ auth: 'scram-sha-256' })
  await server.createRole('app', 'app-pw-1')
  await server.psql(
    'CREATE TABLE orders (id serial PRIMARY KEY, item text); GRANT ALL ON orders, orders_id_seq TO app',
  )
  bouncer = await PgBouncer.start(server, { users: { app: 'app-pw-1' }, poolMode: 'transaction' })
})
afterAll(async () => {
  await bouncer.dispose()
  await server.dispose()
})

test('behind pgbouncer in transaction pooling: statements and transactions work, no capacity reads or reaping, session state is warned about once', async () => {
  const options: PgConnectionOptions = {
    config: {
      host: bouncer.host,
      port: bouncer.port,
      user: 'app',
      password: 'app-pw-1',
      database: 'postgres',
    },
    fleet: 'behind-pgbouncer',
    proxy: true,
    capacityCheckIntervalMs: 0,
    utilizationThreshold: 0,
  }
  const events: LifecycleEvent[] = []
  const managed = createPgConnection(options)
  const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {})
  try {
    const handler = middy<{ item: string }, unknown, Error, PgConnectionContext>()
      .use(dbConnection({ ...options, onEvent: (e) => events.push(e) }))
      .handler(async (event, ctx) => {
        const [row] = await ctx.db.query<{ id: number }>(
          'INSERT INTO orders (item) VALUES ($1) RETURNING id',
          [event.item],
        )
        await ctx.db.transaction(async (tx) => {
          await tx.query("SET LOCAL statement_timeout = '5s'")
          await tx.query('UPDATE orders SET item = $1 WHERE id = $2', [`${event.item}!`, row!.id])
        })
        await ctx.db.query('SET search_path = public')
        return (await ctx.db.query<{ item: string }>('SELECT item FROM orders WHERE id = $1', [row!.id]))[0]!
          .item
      })
    for (let i = 0; i < 3; i++)
      expect(await handler({ item: `i${i}` }, fakeContext() as PgConnectionContext)).toBe(`i${i}!`)
    const releases = events.filter((e) => e.type === 'release')
    expect(releases.map((e) => e.reason)).toEqual(['proxy', 'proxy', 'proxy'])
    expect(events.filter((e) => e.type === 'reap')).toEqual([])
    const warnings = warn.mock.calls.map(([message]) => String(message))
    expect(warnings.filter((w) => w.includes('transaction pooler'))).toHaveLength(1)
    expect(warnings.find((w) => w.includes('transaction pooler'))).toContain('"SET search_path"')
  } finally {
    warn.mockRestore()
    await managed.dispose()
  }
})
