import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import middy from '@middy/core'
import dbConnection, {
  createDataApiConnection,
  type DataApiConnectionContext,
  type DataApiConnectionOptions,
  type DataApiWriteResult,
  DeadlineError,
  type LifecycleEvent,
  type ManagedDataApiConnection,
  OperationError,
} from '@middy-downstream/db-connection/data-api'
import { DataApiStandIn, fakeContext, MariaDbServer } from '@middy-downstream/testing'
import { resourceArn, secretArn, standInClient } from './support.js'

let server: MariaDbServer
let endpoint: DataApiStandIn
const created: ManagedDataApiConnection[] = []

beforeAll(async () => {
  server = await MariaDbServer.start()
  await server.sql(
    `CREATE TABLE test.typed (id BIGINT PRIMARY KEY AUTO_INCREMENT, price DECIMAL(10,2), at DATETIME(3),
      day DATE, clock TIME, raw BLOB, flag BOOLEAN, ratio DOUBLE, note VARCHAR(20), doc TEXT)`,
  )
  await server.sql('CREATE TABLE test.big (body MEDIUMTEXT)')
  endpoint = await DataApiStandIn.start({ database: server.config })
})
afterEach(async () => {
  endpoint.pause(0)
  endpoint.delayMs = 0
  await Promise.all(created.splice(0).map((m) => m.dispose()))
})
afterAll(async () => {
  await endpoint.dispose()
  await server.dispose()
})

const optionsFor = (): DataApiConnectionOptions => ({
  config: { resourceArn, secretArn, database: 'test', client: standInClient(endpoint) },
})
const sessionFor = (timeoutMs = 10_000) => {
  const managed = createDataApiConnection(optionsFor())
  created.push(managed)
  return managed.session(fakeContext({ timeoutMs }))
}

describe('the real SDK client against the local endpoint', () => {
  test('values round-trip with their types: bigint, decimal, date/time, blob, boolean, null', async () => {
    const db = sessionFor()
    const at = new Date(Date.UTC(2026, 11, 1, 15, 4, 5, 123))
    const header = await db.query<DataApiWriteResult>(
      `INSERT INTO typed (price, at, day, clock, raw, flag, ratio, note, doc)
       VALUES (:price, :at, :day, :clock, :raw, :flag, :ratio, :note, :doc)`,
      {
        price: '12.30',
        at,
        day: '2026-12-01',
        clock: '15:04:05',
        raw: Buffer.from([0, 1, 255]),
        flag: true,
        ratio: 0.25,
        note: null,
        doc: { k: [1] },
      },
    )
    expect(header.numberOfRecordsUpdated).toBe(1)
    const id = header.generatedFields?.[0]
    expect(typeof id).toBe('number')
    const [row] = await db.query('SELECT * FROM typed WHERE id = :id', { id })
    expect(row).toEqual({
      id,
      price: '12.30',
      at,
      day: '2026-12-01',
      clock: '15:04:05',
      raw: Buffer.from([0, 1, 255]),
      flag: 1,
      ratio: 0.25,
      note: null,
      doc: '{"k":[1]}',
    })
    const [big] = await db.query<{ n: number; s: string }>(
      'SELECT CAST(:n AS SIGNED) AS n, CAST(:b AS CHAR) AS s',
      {
        n: 2 ** 53 - 1,
        b: 2n ** 63n - 1n,
      },
    )
    expect(big).toEqual({ n: 2 ** 53 - 1, s: '9223372036854775807' })
  })

  test('a transaction commits with its transactionId, and rolls back on throw', async () => {
    const db = sessionFor()
    await db.transaction(async (tx) => {
      await tx.query("INSERT INTO typed (note) VALUES ('tx-kept')")
    })
    await expect(
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO typed (note) VALUES ('tx-gone')")
        throw new Error('changed my mind')
      }),
    ).rejects.toThrow('changed my mind')
    const rows = await db.query<{ note: string }>("SELECT note FROM typed WHERE note LIKE 'tx-%'")
    expect(rows).toEqual([{ note: 'tx-kept' }])
    expect(endpoint.openTransactions).toBe(0)
  })

  test('a SQL error is an OperationError carrying the database message', async () => {
    const db = sessionFor()
    await expect(db.query('SELECT * FROM nowhere')).rejects.toThrow(OperationError)
    await expect(db.query('SELECT * FROM nowhere')).rejects.toThrow(/1146.*nowhere/)
  })

  test('a result over 1 MiB says to paginate', async () => {
    const db = sessionFor()
    await db.query('INSERT INTO big VALUES (REPEAT(:c, 1100000))', { c: 'x' })
    await expect(db.query('SELECT body FROM big')).rejects.toThrow(
      /"SELECT body FROM big" is over the Data API's 1 MiB/,
    )
  })
})

describe('resume from a pause', () => {
  test('a paused endpoint: the statement runs once it has resumed, inside the remaining time', async () => {
    const db = sessionFor(10_000)
    endpoint.pause(1_500)
    const before = endpoint.calls['/Execute'] ?? 0
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }])
    expect(endpoint.paused).toBe(false)
    expect((endpoint.calls['/Execute'] ?? 0) - before).toBeGreaterThan(1)
  })

  test('a resume longer than the invocation: a clear DeadlineError before the timeout', async () => {
    const context = fakeContext({ timeoutMs: 1_500 })
    const managed = createDataApiConnection(optionsFor())
    created.push(managed)
    endpoint.pause(30_000)
    const error = await managed
      .session(context)
      .query('SELECT 1')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DeadlineError)
    expect((error as Error).message).toMatch(/resuming from a pause/)
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0)
  })

  test('a slow answer is aborted at the deadline', async () => {
    const db = sessionFor(1_500)
    endpoint.delayMs = 5_000
    await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(DeadlineError)
  })
})

describe('as Middy middleware', () => {
  test('context.db works, no database connection is held, and nothing is opened per invocation', async () => {
    const events: LifecycleEvent[] = []
    const handler = middy<unknown, unknown, Error, DataApiConnectionContext>()
      .use(dbConnection({ ...optionsFor(), onEvent: (e) => events.push(e) }))
      .handler(async (_event, context) => context.db.query<{ one: number }>('SELECT 1 AS one'))
    created.push(createDataApiConnection(optionsFor()))
    for (let i = 0; i < 3; i++) expect(await handler({}, fakeContext() as never)).toEqual([{ one: 1 }])
    expect(events.filter((e) => e.type === 'open')).toHaveLength(1)
    expect(
      events.filter((e) => e.type === 'release').every((e) => (e as { action?: string }).action === 'keep'),
    ).toBe(true)
  })
})
