import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import middy from '@middy/core'
import { fakeContext, MariaDbServer } from '@middy-downstream/testing'
import mysql, { type Connection, type ConnectionOptions } from 'mysql2/promise'
import dbConnection, {
  createDbConnection,
  type DbConnectionContext,
  type DbConnectionOptions,
  type ManagedDbConnection,
  type MysqlTransaction,
  ReleasedError,
  TransactionError,
} from '../src/index.js'
import { createAppUser } from './support.js'

let server: MariaDbServer
const created: ManagedDbConnection[] = []
let fleetCounter = 0

beforeAll(async () => {
  server = await MariaDbServer.start()
  await server.sql('CREATE TABLE test.scoped (id INT PRIMARY KEY AUTO_INCREMENT, marker VARCHAR(64))')
  await createAppUser(server, 'scoped', 'scoped-pw-1')
  await createAppUser(server, 'other', 'other-pw-1')
})
afterEach(async () => {
  await Promise.all(created.splice(0).map((m) => m.dispose()))
})
afterAll(() => server.dispose())

const optionsFor = (extra: Partial<DbConnectionOptions> = {}): DbConnectionOptions => ({
  config: { ...server.config, user: 'scoped', password: 'scoped-pw-1', database: 'test' },
  fleet: `scope-${++fleetCounter}`,
  ...extra,
})

const build = (extra: Partial<DbConnectionOptions> = {}) => {
  const options = optionsFor(extra)
  created.push(createDbConnection(options))
  return dbConnection(options)
}

const context = () => fakeContext({ timeoutMs: 5_000 }) as DbConnectionContext
const count = async (marker: string) =>
  Number(
    (
      await server.sql<{ n: number }[]>('SELECT COUNT(*) AS n FROM test.scoped WHERE marker = ?', [marker])
    )[0]!.n,
  )

describe('a transaction handle after its transaction ended', () => {
  test("tx.query after COMMIT is refused, never run inside the next invocation's transaction", async () => {
    const middleware = build()
    let stashed: MysqlTransaction | undefined
    const first = middy<unknown, unknown, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (_event, ctx) => {
        await ctx.db.transaction(async (tx) => {
          stashed = tx
          await tx.query('INSERT INTO test.scoped (marker) VALUES (?)', ['committed'])
        })
        return 'ok'
      })
    await first({}, context())
    let late: Promise<unknown> | undefined
    const second = middy<unknown, unknown, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (_event, ctx) => {
        await ctx.db
          .transaction(async (tx) => {
            // The first invocation's tx, used while this one's transaction is open on the same connection.
            late = stashed!.query('INSERT INTO test.scoped (marker) VALUES (?)', ['late'])
            await late.catch(() => {})
            await tx.query('INSERT INTO test.scoped (marker) VALUES (?)', ['second'])
            throw new Error('roll back')
          })
          .catch(() => {})
        return 'ok'
      })
    await second({}, context())
    const error = await late!.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ReleasedError)
    expect(await count('committed')).toBe(1)
    expect(await count('late')).toBe(0)
  })

  test('a tx kept past its own transaction, in the same invocation, is refused with TransactionError', async () => {
    const handler = middy<unknown, unknown, Error, DbConnectionContext>()
      .use(build())
      .handler(async (_event, ctx) => {
        let kept: MysqlTransaction | undefined
        await ctx.db.transaction(async (tx) => {
          kept = tx
        })
        return kept!.query('SELECT 1').catch((e: unknown) => e)
      })
    const error = await handler({}, context())
    expect(error).toBeInstanceOf(TransactionError)
    expect((error as Error).message).toMatch(/the transaction has already ended; nothing was sent/)
  })
})

describe('state a raw connection leaves behind', () => {
  test('changeUser on the raw connection: the next invocation runs as the configured user again', async () => {
    const middleware = build()
    const run = middy<unknown, string, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (_event, ctx) => {
        const rows = await ctx.db.query<{ user: string }>('SELECT SUBSTRING_INDEX(USER(), "@", 1) AS user')
        return rows[0]!.user
      })
    const switching = middy<unknown, unknown, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (_event, ctx) => {
        const raw = await ctx.db.connection()
        await raw.changeUser({ user: 'other', password: 'other-pw-1' })
        return 'switched'
      })
    expect(await run({}, context())).toBe('scoped')
    await switching({}, context())
    expect(await run({}, context())).toBe('scoped')
  })

  test('a connection whose raw handle was taken is reset, not dropped, when its user is unchanged', async () => {
    const middleware = build()
    const handler = middy<unknown, number, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (_event, ctx) => {
        const raw = await ctx.db.connection()
        const [rows] = await raw.query('SELECT CONNECTION_ID() AS id, @raw_var AS v')
        await raw.query('SET @raw_var = 7')
        const row = (rows as Array<{ id: number; v: number | null }>)[0]!
        if (row.v !== null) throw new Error('a variable leaked into this invocation')
        return row.id
      })
    const first = await handler({}, context())
    const second = await handler({}, context())
    expect(second).toBe(first)
  })
})

describe('options that used to get through', () => {
  test('a clock that returns NaN runs without a deadline instead of "timed out after NaN ms"', async () => {
    const managed = createDbConnection(optionsFor())
    created.push(managed)
    const session = managed.session({ ...context(), getRemainingTimeInMillis: () => Number.NaN })
    expect(await session.query('SELECT 1 AS one')).toEqual([{ one: 1 }])
    await session.release()
  })

  test('with config.uri the reaper acts for the URL user, not for ""', () => {
    const managed = createDbConnection({
      config: { uri: `mysql://scoped:scoped-pw-1@127.0.0.1:${server.port}/test` },
      fleet: `scope-${++fleetCounter}`,
    })
    created.push(managed)
    expect(JSON.parse(JSON.stringify(managed))).toMatchObject({ user: 'scoped' })
    expect(JSON.stringify(managed)).not.toContain('scoped-pw-1')
  })

  test('two configs that differ only in a same-length createConnection wrapper get their own connections', async () => {
    const calls: string[] = []
    const wrap =
      (name: string) =>
      (options: ConnectionOptions): Promise<Connection> => {
        calls.push(name)
        return mysql.createConnection(options)
      }
    const a = build({ fleet: 'same-fleet-wrappers', createConnection: wrap('a') })
    const b = build({ fleet: 'same-fleet-wrappers', createConnection: wrap('b') })
    for (const middleware of [a, b]) {
      const handler = middy<unknown, unknown, Error, DbConnectionContext>()
        .use(middleware)
        .handler(async (_event, ctx) => ctx.db.query('SELECT 1'))
      await handler({}, context())
    }
    expect(calls.sort()).toEqual(['a', 'b'])
  })
})
