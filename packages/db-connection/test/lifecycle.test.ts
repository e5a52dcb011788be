import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import middy from '@middy/core'
import { fakeContext, MariaDbServer } from '@middy-downstream/testing'
import mysql, { type Connection, type ConnectionOptions, type ResultSetHeader } from 'mysql2/promise'
import dbConnection, {
  AuthenticationError,
  ConnectionLostError,
  createDbConnection,
  type DbConnectionContext,
  type DbConnectionOptions,
  type LifecycleEvent,
  type ManagedDbConnection,
  OperationError,
  TransactionError,
} from '../src/index.js'
import { createAppUser } from './support.js'

let server: MariaDbServer
const created: ManagedDbConnection[] = []
let fleetCounter = 0

/** Lambda calls the handler with a plain context; Middy's types expect the one the middlewares add. */
const lambdaContext = (options?: Parameters<typeof fakeContext>[0]) =>
  fakeContext(options) as DbConnectionContext

beforeAll(async () => {
  server = await MariaDbServer.start()
  await server.sql('CREATE TABLE test.items (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(50))')
  await createAppUser(server, 'app', 'app-password-1')
})
afterEach(async () => {
  await Promise.all(created.splice(0).map((m) => m.dispose()))
})
afterAll(() => server.dispose())

/** Options for a fresh, isolated set of connections (a distinct fleet gives a distinct registry key). */
const optionsFor = (extra: Partial<DbConnectionOptions> = {}): DbConnectionOptions => ({
  config: { ...server.config },
  fleet: `fleet-${++fleetCounter}`,
  ...extra,
})

const build = (extra: Partial<DbConnectionOptions> = {}) => {
  const options = optionsFor(extra)
  const events: LifecycleEvent[] = []
  const middleware = dbConnection({ ...options, onEvent: (e) => events.push(e) })
  const managed = createDbConnection(options)
  created.push(managed)
  return { middleware, managed, events }
}

describe('lazy and reused', () => {
  test('an invocation that never queries opens no connection', async () => {
    const { middleware, managed } = build()
    const before = await server.status('Connections')
    const handler = middy()
      .use(middleware)
      .handler(async () => 'no query')
    expect(await handler({}, lambdaContext())).toBe('no query')
    expect(await server.status('Connections')).toBe(before)
    expect(managed.counters.opens).toBe(0)
  })

  test('50 warm invocations use one connection', async () => {
    const { middleware, managed } = build()
    const handler = middy<unknown, number, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (_event, context) => {
        const rows = await context.db.query<{ id: number }>('SELECT CONNECTION_ID() AS id')
        return rows[0]!.id
      })
    const before = await server.status('Connections')
    const ids = new Set<number>()
    for (let i = 0; i < 50; i++) ids.add(await handler({}, lambdaContext()))
    expect((await server.status('Connections')) - before).toBe(1)
    expect(ids.size).toBe(1)
    expect(managed.counters).toMatchObject({ opens: 1, reuses: 49 })
  })

  test('concurrent first calls share one connect', async () => {
    const { middleware, managed } = build()
    const handler = middy<unknown, unknown, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (_event, context) =>
        Promise.all([context.db.query('SELECT 1'), context.db.query('SELECT 2'), context.db.connection()]),
      )
    await handler({}, lambdaContext())
    expect(managed.counters.opens).toBe(1)
  })

  test('eager opens in before', async () => {
    const { middleware, managed } = build({ eager: true })
    await middy()
      .use(middleware)
      .handler(async () => 'x')({}, lambdaContext())
    expect(managed.counters.opens).toBe(1)
  })
})

describe('an early return (Middy skips after)', () => {
  test("the skipped invocation's connection is released by a later one once its deadline passed", async () => {
    const { middleware, managed } = build({ eager: true, maxConnectionsPerEnvironment: 1, marginMs: 0 })
    const handler = middy<{ early: boolean }, unknown, Error, DbConnectionContext>()
      .use(middleware)
      .before(async (request) => (request.event.early ? 'cached answer' : undefined))
      .handler(
        async (_event, context) => (await context.db.query<{ one: number }>('SELECT 1 AS one'))[0]!.one,
      )
    const skipped = lambdaContext({ timeoutMs: 100 })
    expect(await handler({ early: true }, skipped)).toBe('cached answer')
    while (skipped.getRemainingTimeInMillis() > 0) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await handler({ early: false }, lambdaContext())).toBe(1)
    expect(managed.counters).toMatchObject({ opens: 1, reuses: 1 })
  })
})

describe('statements', () => {
  test('query gives rows for a SELECT and the header for a write; execute is prepared', async () => {
    const { middleware } = build()
    const handler = middy<unknown, unknown, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (_event, context) => {
        const header = await context.db.query<ResultSetHeader>('INSERT INTO items (name) VALUES (?)', [
          'apple',
        ])
        const rows = await context.db.execute<{ name: string }>('SELECT name FROM items WHERE id = ?', [
          header.insertId,
        ])
        return { affected: header.affectedRows, name: rows[0]!.name }
      })
    expect(await handler({}, lambdaContext())).toEqual({ affected: 1, name: 'apple' })
  })

  test('a SQL error keeps code, errno and sqlState, with the driver error as cause', async () => {
    const { middleware } = build()
    const handler = middy<unknown, unknown, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (_event, context) => context.db.query('SELECT * FROM no_such_table'))
    const error = (await handler({}, lambdaContext()).catch((e) => e)) as OperationError
    expect(error).toBeInstanceOf(OperationError)
    expect(error).toMatchObject({
      code: 'ER_NO_SUCH_TABLE',
      errno: 1146,
      sqlState: '42S02',
      kind: 'operation',
    })
    expect((error.cause as { code: string }).code).toBe('ER_NO_SUCH_TABLE')
  })

  test("a failed statement's error shows the handler that ran it, though mysql2's per-statement trace is off", async () => {
    const { middleware } = build()
    const connections: unknown[] = []
    const lookUpOrder = async (context: DbConnectionContext) => {
      connections.push(await context.db.connection())
      const rows = await context.db.query('SELECT * FROM no_such_table')
      return rows
    }
    const handler = middy<unknown, unknown, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (_event, context) => lookUpOrder(context))
    const error = (await handler({}, lambdaContext()).catch((e) => e)) as OperationError
    expect(error.stack).toContain('lookUpOrder')
    // The driver's own stack capture (4–8 µs a statement) is off unless config.trace is set.
    expect((connections[0] as { connection: { config: { trace: boolean } } }).connection.config.trace).toBe(
      false,
    )
  })

  test("a createConnection wrapper that wraps query and execute sees every statement (statements bypass mysql2's promise layer only on an unwrapped connection)", async () => {
    const seen: string[] = []
    const traced = async (options: ConnectionOptions): Promise<Connection> => {
      const connection = await mysql.createConnection(options)
      const { query, execute } = connection
      connection.query = ((sql: string, values?: unknown) => {
        seen.push(`query ${sql}`)
        return Reflect.apply(query, connection, [sql, values])
      }) as typeof connection.query
      connection.execute = ((sql: string, values?: unknown) => {
        seen.push(`execute ${sql}`)
        return Reflect.apply(execute, connection, [sql, values])
      }) as typeof connection.execute
      return connection
    }
    const { middleware } = build({ createConnection: traced })
    const handler = middy<unknown, unknown, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (_event, context) => [
        await context.db.query<{ n: number }>('SELECT 1 AS n'),
        await context.db.execute<{ n: number }>('SELECT ? AS n', [2]),
      ])
    expect(await handler({}, lambdaContext())).toEqual([[{ n: 1 }], [{ n: 2 }]])
    // The handler's statements, then the middleware's own capacity read at release: the wrapper
    // sees those too.
    expect(seen.slice(0, 2)).toEqual(['query SELECT 1 AS n', 'execute SELECT ? AS n'])
    expect(seen.slice(2)).toEqual([expect.stringContaining('max_connections')])
  })

  test('values given as a function are refused at once, not left to the statement timeout', async () => {
    const { middleware } = build()
    const handler = middy<unknown, unknown, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (_event, context) => context.db.query('SELECT 1', (() => {}) as never))
    const error = (await handler({}, lambdaContext()).catch((e) => e)) as OperationError
    expect(error).toBeInstanceOf(OperationError)
    expect(error.cause).toBeInstanceOf(TypeError)
    expect(error.message).toContain('values must be an array or an object')
  })

  test('a custom contextKey is used, and typed for the handler', async () => {
    const options = optionsFor()
    created.push(createDbConnection(options))
    const handler = middy()
      .use(dbConnection({ ...options, contextKey: 'orders' }))
      .handler(async (_event, context) => {
        const rows = await context.orders.query<{ one: number }>('SELECT 1 AS one')
        return rows[0]!.one
      })
    expect(await handler({}, fakeContext() as DbConnectionContext<'orders'>)).toBe(1)
  })
})

describe('a connection lost while a statement is in flight', () => {
  /** Kills the connection running a statement that contains `marker`, once the server shows it running. */
  const killWhenRunning = async (marker: string) => {
    for (;;) {
      const rows = await server.sql<{ ID: number }[]>(
        "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' AND INFO LIKE ? AND ID <> CONNECTION_ID()",
        [`%${marker}%`],
      )
      if (rows[0]) return server.sql('KILL CONNECTION ?', [rows[0].ID])
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  test('a statement that may have run is not re-run', async () => {
    const { middleware, managed } = build()
    const handler = middy<unknown, unknown, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (_event, context) =>
        context.db.query(
          "INSERT INTO items (name) SELECT 'once' FROM DUAL WHERE SLEEP(2) = 0 /* not-idempotent */",
        ),
      )
    const [error] = await Promise.all([
      handler({}, lambdaContext({ timeoutMs: 10_000 })).catch((e) => e),
      killWhenRunning('not-idempotent'),
    ])
    expect(error).toBeInstanceOf(ConnectionLostError)
    expect((error as ConnectionLostError).message).toContain(
      'it may or may not have run, so it was not re-run',
    )
    expect(managed.counters).toMatchObject({ opens: 1, retries: 0 })
  })

  test('an idempotent statement is re-run once on a new connection', async () => {
    const { middleware, managed } = build()
    const handler = middy<unknown, unknown, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (_event, context) =>
        context.db.query<{ s: number }>('SELECT SLEEP(0.5) AS s /* idempotent-read */', [], {
          idempotent: true,
        }),
      )
    const [rows] = await Promise.all([
      handler({}, lambdaContext({ timeoutMs: 10_000 })),
      killWhenRunning('idempotent-read'),
    ])
    expect(rows).toEqual([{ s: 0 }])
    expect(managed.counters).toMatchObject({ opens: 2, retries: 1 })
  })

  test('inside a transaction nothing is re-run on a new connection', async () => {
    const { middleware, managed } = build()
    const handler = middy<unknown, unknown, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (_event, context) =>
        context.db.transaction(async (tx) => {
          await tx.query("INSERT INTO items (name) VALUES ('in-tx')")
          await tx.query('SELECT SLEEP(2) /* in-transaction */', [], { idempotent: true })
        }),
      )
    const [error] = await Promise.all([
      handler({}, lambdaContext({ timeoutMs: 10_000 })).catch((e) => e),
      killWhenRunning('in-transaction'),
    ])
    expect(error).toBeInstanceOf(TransactionError)
    expect(managed.counters.opens).toBe(1)
    expect(await server.sql("SELECT * FROM test.items WHERE name = 'in-tx'")).toEqual([])
  })
})

describe('transactions', () => {
  test('commit on resolve, rollback on throw', async () => {
    const { middleware } = build()
    const handler = middy<{ name: string; fail: boolean }, unknown, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (event, context) =>
        context.db.transaction(async (tx) => {
          await tx.query('INSERT INTO items (name) VALUES (?)', [event.name])
          if (event.fail) throw new Error('changed my mind')
          return 'committed'
        }),
      )
    expect(await handler({ name: 'kept', fail: false }, lambdaContext())).toBe('committed')
    await expect(handler({ name: 'discarded', fail: true }, lambdaContext())).rejects.toThrow(
      'changed my mind',
    )
    const names = await server.sql<{ name: string }[]>(
      "SELECT name FROM test.items WHERE name IN ('kept', 'discarded')",
    )
    expect(names.map((r) => r.name)).toEqual(['kept'])
  })

  test('a transaction left open by a throwing handler is rolled back before the next invocation', async () => {
    const { middleware, managed } = build()
    const handler = middy<{ fail: boolean }, unknown, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (event, context) => {
        const connection = await context.db.connection()
        if (event.fail) {
          await connection.query('START TRANSACTION')
          await connection.query("INSERT INTO items (name) VALUES ('uncommitted')")
          throw new Error('boom')
        }
        const [rows] = await connection.query("SELECT COUNT(*) AS n FROM items WHERE name = 'uncommitted'")
        return (rows as { n: number }[])[0]!.n
      })
    await expect(handler({ fail: true }, lambdaContext())).rejects.toThrow('boom')
    expect(await handler({ fail: false }, lambdaContext())).toBe(0)
    expect(managed.counters.opens).toBe(1)
  })

  test('statements outside tx while a transaction is open, and nested transactions, are refused', async () => {
    const { middleware } = build()
    const handler = middy<unknown, unknown, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (_event, context) =>
        context.db.transaction(async () => {
          await expect(context.db.query('SELECT 1')).rejects.toBeInstanceOf(TransactionError)
          await expect(context.db.transaction(async () => 1)).rejects.toThrow('already open')
          return 'ok'
        }),
      )
    expect(await handler({}, lambdaContext())).toBe('ok')
  })
})

describe('credentials', () => {
  test('a password provider is called once per new connection', async () => {
    let calls = 0
    const { middleware, managed } = build({
      config: { ...server.config, user: 'app', password: undefined },
      password: async () => {
        calls += 1
        return 'app-password-1'
      },
    })
    const handler = middy<unknown, unknown, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (_event, context) => context.db.query('SELECT 1'))
    for (let i = 0; i < 5; i++) await handler({}, lambdaContext())
    expect(calls).toBe(1)
    const [first] = managed.pool.clients
    first!.destroy()
    await handler({}, lambdaContext())
    expect(calls).toBe(2)
  })

  test('an expired token is refreshed once after access denied', async () => {
    const tokens = ['expired-token-1', 'app-password-1']
    const { middleware, managed } = build({
      config: { ...server.config, user: 'app' },
      password: async () => tokens.shift() ?? 'none-left',
    })
    const handler = middy<unknown, unknown, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (_event, context) => context.db.query('SELECT 1'))
    await handler({}, lambdaContext())
    expect(managed.counters).toMatchObject({ opens: 1, retries: 1 })
  })

  test('a wrong password fails with an AuthenticationError that does not contain it', async () => {
    const secret = 'Wr0ng-Secret-Value-42'
    const events: LifecycleEvent[] = []
    const { middleware } = build({
      config: { ...server.config, user: 'app', password: secret },
      onEvent: (e) => events.push(e),
    })
    const handler = middy<unknown, unknown, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (_event, context) => context.db.query('SELECT 1'))
    const error = (await handler({}, lambdaContext()).catch((e) => e)) as AuthenticationError
    expect(error).toBeInstanceOf(AuthenticationError)
    expect(error).toMatchObject({ code: 'ER_ACCESS_DENIED_ERROR', errno: 1045 })
    const everything = JSON.stringify([error.message, error.stack, String(error.cause), events])
    expect(everything).not.toContain(secret)
  })

  test('the password can come from request.internal (e.g. @middy/rds-signer)', async () => {
    const { middleware } = build({
      config: { ...server.config, user: 'app' },
      passwordFromInternal: 'rdsToken',
    })
    const handler = middy<unknown, unknown, Error, DbConnectionContext>()
      .before(async (request) => {
        Object.assign(request.internal, { rdsToken: Promise.resolve('app-password-1') })
      })
      .use(middleware)
      .handler(
        async (_event, context) =>
          (await context.db.query<{ u: string }>('SELECT CURRENT_USER() AS u'))[0]!.u,
      )
    expect(await handler({}, lambdaContext())).toBe('app@%')
  })
})

describe('many invocations in one environment (Lambda Managed Instances)', () => {
  test('each concurrent invocation gets its own connection, up to the cap', async () => {
    const { middleware, managed } = build({ maxConnectionsPerEnvironment: 3 })
    const handler = middy<unknown, number, Error, DbConnectionContext>()
      .use(middleware)
      .handler(async (_event, context) => {
        const rows = await context.db.query<{ id: number }>('SELECT CONNECTION_ID() AS id, SLEEP(0.2)')
        return rows[0]!.id
      })
    const ids = await Promise.all(
      Array.from({ length: 5 }, () => handler({}, lambdaContext({ timeoutMs: 5000 }))),
    )
    expect(new Set(ids.slice(0, 3)).size).toBe(3)
    expect(new Set(ids).size).toBe(3)
    expect(managed.counters.opens).toBe(3)
  })

  test("a connection opened for one invocation uses that invocation's request.internal token, never a concurrent one's", async () => {
    const { middleware } = build({
      config: { ...server.config, user: 'app' },
      passwordFromInternal: 'rdsToken',
      maxConnectionsPerEnvironment: 2,
    })
    // Invocation "good" waits at the gate until "bad" (whose token is wrong) has begun, then
    // connects: before, the managed connection kept the last invocation's token source for all.
    let openGate: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      openGate = resolve
    })
    const handler = middy<{ token: string; wait: boolean }, string, Error, DbConnectionContext>()
      .before(async (request) => {
        Object.assign(request.internal, { rdsToken: request.event.token })
      })
      .use(middleware)
      .handler(async (event, context) => {
        if (event.wait) await gate
        return (await context.db.query<{ u: string }>('SELECT CURRENT_USER() AS u'))[0]!.u
      })
    const good = handler({ token: 'app-password-1', wait: true }, lambdaContext({ timeoutMs: 5000 }))
    const bad = handler({ token: 'not-the-password', wait: false }, lambdaContext({ timeoutMs: 5000 }))
    await expect(bad).rejects.toBeInstanceOf(AuthenticationError)
    openGate()
    expect(await good).toBe('app@%')
  })
})

describe('options', () => {
  test.each([
    [{}, 'option "config" is required'],
    [{ config: {}, release: 'sometimes' }, 'option "release" must be one of "auto", "keep", "close"'],
    [
      { config: {}, utilizationThreshold: 2 },
      'option "utilizationThreshold" must be a number >= 0 and <= 1, got number 2',
    ],
    [{ config: {}, retry: { baseMs: 0 } }, 'option "retry" must be'],
    [{ config: {}, maxConnectionsPerEnviroment: 2 }, 'did you mean "maxConnectionsPerEnvironment"?'],
    [{ config: {}, password: 42 }, 'option "password" must be a string or a function, got number;'],
    [{ config: { host: 'db' }, password: 'x', passwordFromInternal: 'token' }, 'exclude each other'],
    [{ config: {}, functionTimeout: 0 }, 'option "functionTimeout" must be an integer >= 1 and <= 900'],
    [{ config: {}, functionTimeout: 30_000 }, 'option "functionTimeout" must be an integer >= 1 and <= 900'],
  ])('%j is rejected at construction with a TypeError', (options, message) => {
    expect(() => dbConnection(options as never)).toThrow(TypeError)
    expect(() => dbConnection(options as never)).toThrow(message)
  })

  test('a password is never printed in an option error', () => {
    expect(() => dbConnection({ config: {}, password: ['hunter22'] } as never)).not.toThrow(/hunter22/)
  })
})
