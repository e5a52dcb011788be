import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import middy from '@middy/core'
import {
  AuthenticationError,
  ClosedError,
  ConnectError,
  Deadline,
  type LifecycleEvent,
} from '@middy-downstream/core'
import { type FakeContextOptions, FaultProxy, fakeContext } from '@middy-downstream/testing'
import type { MongoClient } from 'mongodb'
import mongoConnection, {
  createMongoConnection,
  lambdaClientDefaults,
  type MongoClientConstructor,
  type MongoConnectionOptions,
  type MongoContext,
} from '../src/index.js'
import { credentialsKnown, destructive, drivers, startServer, type TestServer, uniqueDb } from './server.js'

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.stop())

/**
 * A Lambda context as the runtime passes it. A handler with the middleware is typed to receive
 * the context with `mongo` on it (what its body sees), so a direct call needs the cast.
 */
const lambdaContext = (options?: FakeContextOptions) =>
  fakeContext(options) as MongoContext & MongoContext<'orders'>

/** Every connection, events collected, and a dispose for the end of each test. */
const setup = (MongoClient: MongoClientConstructor, extra: Partial<MongoConnectionOptions> = {}) => {
  const events: LifecycleEvent[] = []
  const options: MongoConnectionOptions = {
    url: server.url(),
    dbName: uniqueDb(),
    MongoClient,
    onEvent: (event) => events.push(event),
    ...extra,
  }
  const connection = createMongoConnection(options)
  const types = () => events.map((e) => e.type)
  return { options, events, types, connection, dispose: () => connection.dispose() }
}

/** Counts the pool connections a client opens (CMAP events work against any server). */
const countConnections = () => {
  const seen = new WeakSet<MongoClient>()
  const counter = {
    created: 0,
    watch(client: MongoClient) {
      if (seen.has(client)) return
      seen.add(client)
      client.on('connectionCreated', () => {
        counter.created += 1
      })
    },
  }
  return counter
}

/** Everything an error exposes as text, through its causes. */
const allText = (error: unknown): string => {
  const parts: string[] = []
  for (
    let e = error as { message?: string; stack?: string; cause?: unknown } | undefined, i = 0;
    e && i < 6;
    i++
  ) {
    parts.push(String(e), e.message ?? '', e.stack ?? '', JSON.stringify(e))
    e = e.cause as typeof e
  }
  return parts.join('\n')
}

describe.each(drivers)('%s', (_name, MongoClient) => {
  test('50 warm invocations use one client and no more connections than the pool size', async () => {
    const { options, connection, types, dispose } = setup(MongoClient)
    const connections = countConnections()
    const acceptedBefore = server.connectionsAccepted?.()
    const handler = middy<{ n: number }>()
      .use(mongoConnection(options))
      .handler(async (event, context) => {
        // context.mongo is typed: no cast.
        connections.watch(context.mongo.client)
        const orders = context.mongo.db.collection<{ n: number }>('orders')
        // Three operations at once: more than one connection is useful, more than the pool is not.
        const [inserted, , count] = await Promise.all([
          orders.insertOne({ n: event.n }),
          orders.findOne({ n: event.n - 1 }),
          orders.countDocuments(),
        ])
        return { acknowledged: inserted.acknowledged, count }
      })
    for (let n = 0; n < 50; n++) {
      expect(await handler({ n }, lambdaContext())).toEqual({ acknowledged: true, count: expect.any(Number) })
    }
    expect(connection.counters).toMatchObject({ opens: 1, reuses: 49, releases: 50, closes: 0, errors: 0 })
    expect(types().filter((t) => t === 'open')).toHaveLength(1)
    expect(connections.created).toBeGreaterThanOrEqual(1)
    expect(connections.created).toBeLessThanOrEqual(lambdaClientDefaults.maxPoolSize)
    if (server.connectionsAccepted && acceptedBefore !== undefined) {
      // The pool, plus the driver's one monitoring connection.
      expect(server.connectionsAccepted() - acceptedBefore).toBeLessThanOrEqual(
        lambdaClientDefaults.maxPoolSize + 1,
      )
    }
    await dispose()
  })

  test('lazy by default: an invocation that never uses the client opens no connection; eager connects in before', async () => {
    const lazy = setup(MongoClient)
    const connections = countConnections()
    let connected: boolean | undefined
    const idle = middy()
      .use(mongoConnection(lazy.options))
      .handler(async (_event: unknown, context) => {
        connections.watch(context.mongo.client)
        return 'no database needed'
      })
    await idle({}, lambdaContext())
    await idle({}, lambdaContext())
    expect(connections.created).toBe(0)
    expect(lazy.connection.counters.opens).toBe(1)
    await lazy.dispose()

    const eager = setup(MongoClient, { eager: true })
    const handler = middy()
      .use(mongoConnection(eager.options))
      .handler(async (_event: unknown, context) => {
        // Connected before the handler: the topology already knows the server.
        connected = (context.mongo.client as unknown as { topology?: unknown }).topology !== undefined
      })
    await handler({}, lambdaContext())
    expect(connected).toBe(true)
    await eager.dispose()
  })

  test('a custom contextKey is typed too, and the Db is the configured one', async () => {
    const { options, dispose } = setup(MongoClient)
    const handler = middy()
      .use(mongoConnection({ ...options, contextKey: 'orders' }))
      .handler(async (_event: unknown, context) => context.orders.db.databaseName)
    expect(await handler({}, lambdaContext())).toBe(options.dbName)
    await dispose()
  })

  test('after an idle gap longer than validateAfterIdleMs the client is pinged before the handler', async () => {
    const { options, connection, events, dispose } = setup(MongoClient, { validateAfterIdleMs: 0 })
    const handler = middy()
      .use(mongoConnection(options))
      .handler(async (_event: unknown, context) => context.mongo.db.collection('orders').findOne({}))
    await handler({}, lambdaContext())
    await handler({}, lambdaContext())
    expect(connection.counters).toMatchObject({ opens: 1, validations: 1, validationFailures: 0 })
    expect(events.find((e) => e.type === 'validate')).toMatchObject({
      ok: true,
      durationMs: expect.any(Number),
    })
    await dispose()
  })

  test("release: 'close' closes the client after each invocation; the next one opens a new client", async () => {
    const { options, connection, events, dispose } = setup(MongoClient, { release: 'close' })
    const clients: MongoClient[] = []
    const handler = middy()
      .use(mongoConnection(options))
      .handler(async (_event: unknown, context) => {
        clients.push(context.mongo.client)
        return context.mongo.db.collection('orders').countDocuments()
      })
    await handler({}, lambdaContext())
    await handler({}, lambdaContext())
    expect(clients[0]).not.toBe(clients[1])
    expect(connection.counters).toMatchObject({ opens: 2, closes: 2, releases: 2 })
    expect(events.filter((e) => e.type === 'close').map((e) => e.action)).toEqual(['close', 'close'])
    await expect(clients[0]!.db('x').collection('y').findOne({})).rejects.toThrow()
    await dispose()
  })

  test('a handler error that is not a connection failure passes through unchanged, and the client is kept', async () => {
    const { options, connection, dispose } = setup(MongoClient)
    const handler = middy()
      .use(mongoConnection(options))
      .handler(async (_event: unknown, context) => {
        await context.mongo.db.collection('orders').insertOne({ _id: 'same' } as never)
        await context.mongo.db.collection('orders').insertOne({ _id: 'same' } as never)
      })
    const error = await handler({}, lambdaContext()).catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'MongoServerError', code: 11000 })
    expect(connection.counters).toMatchObject({ opens: 1, closes: 0 })
    await dispose()
  })

  test('an early return (Middy skips after) is released by the next invocation, and the client is kept', async () => {
    const { options, connection, dispose } = setup(MongoClient)
    let cached: string | undefined = 'cached response'
    const handler = middy()
      .use(mongoConnection(options))
      .before(async () => cached)
      .handler(async (_event: unknown, context) => context.mongo.db.collection('orders').countDocuments())
    expect(await handler({}, lambdaContext())).toBe('cached response')
    expect(connection.counters.releases).toBe(0)
    cached = undefined
    expect(await handler({}, lambdaContext())).toEqual(expect.any(Number))
    expect(connection.counters).toMatchObject({ opens: 1, releases: 2, closes: 0 })
    await dispose()
  })

  describe('credentials', () => {
    const wrong = 'Wr0ng-Pa55word-do-not-leak'

    test('a wrong password in the url: AuthenticationError, and the password appears nowhere', async () => {
      const username = server.credentials?.username ?? 'nobody'
      const { options, events, connection, dispose } = setup(MongoClient, {
        url: server.url({ username, password: wrong }),
      })
      const handler = middy()
        .use(mongoConnection(options))
        .handler(async (_event: unknown, context) => context.mongo.db.collection('orders').findOne({}))
      const error = await handler({}, lambdaContext()).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(AuthenticationError)
      expect(error).toMatchObject({
        kind: 'authentication',
        package: '@middy-downstream/mongo-connection',
        code: 18,
      })
      expect((error as Error).cause).toMatchObject({ name: 'MongoServerError', code: 18 })
      expect(allText(error)).not.toContain(wrong)
      expect(JSON.stringify(events)).not.toContain(wrong)
      // The rejected client is dropped: the next invocation builds a new one.
      await handler({}, lambdaContext()).catch(() => {})
      expect(connection.counters.opens).toBe(2)
      await dispose()
    })

    test('a wrong password as an auth value, eager: AuthenticationError from before, password nowhere', async () => {
      const username = server.credentials?.username ?? 'nobody'
      const { options, events, dispose } = setup(MongoClient, {
        url: server.url(null),
        auth: { username, password: wrong },
        eager: true,
      })
      const handler = middy()
        .use(mongoConnection(options))
        .handler(async () => 'never')
      const error = await handler({}, lambdaContext()).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(AuthenticationError)
      expect(allText(error)).not.toContain(wrong)
      expect(JSON.stringify(events)).not.toContain(wrong)
      await dispose()
    })
  })

  // Against a real server, this needs credentials in MONGO_URL.
  if (credentialsKnown) {
    describe('credentials provider', () => {
      test('called for each new client; a rejected secret is fetched again once (eager)', async () => {
        const valid = server.credentials!
        const given = [{ username: valid.username, password: 'expired-token-1234' }, valid]
        let calls = 0
        const { options, connection, dispose } = setup(MongoClient, {
          url: server.url(null),
          auth: async () => given[Math.min(calls++, given.length - 1)]!,
          eager: true,
          release: 'close',
        })
        const handler = middy()
          .use(mongoConnection(options))
          .handler(async (_event: unknown, context) => context.mongo.db.collection('orders').countDocuments())
        expect(await handler({}, lambdaContext())).toEqual(expect.any(Number))
        expect(calls).toBe(2)
        expect(connection.counters.retries).toBe(1)
        // release 'close': the next invocation's new client asks the provider again.
        await handler({}, lambdaContext())
        expect(calls).toBe(3)
        await dispose()
      })
    })
  }

  test('outside Middy: connect, use, release, dispose', async () => {
    const { connection, options } = setup(MongoClient)
    const lease = await connection.connect(Deadline.none())
    await lease.db.collection('orders').insertOne({ n: 1 })
    expect(await lease.db.collection('orders').countDocuments()).toBe(1)
    await lease.release()
    expect(connection.counters).toMatchObject({ opens: 1, releases: 1 })
    await connection.dispose()
    await expect(connection.connect()).rejects.toBeInstanceOf(ClosedError)
    // A new connection for the same config starts a fresh client.
    const again = createMongoConnection(options)
    const second = await again.connect()
    expect(await second.db.collection('orders').countDocuments()).toBe(1)
    await again.dispose()
  })

  test('TLS options pass through to the client, url options win over the Lambda defaults', async () => {
    const { connection, dispose } = setup(MongoClient, {
      url: `${server.url()}${server.url().includes('?') ? '&' : '?'}maxPoolSize=7`,
      clientOptions: { tls: true, tlsCAFile: '/etc/ssl/certs/ca-certificates.crt', connectTimeoutMS: 1234 },
    })
    const lease = await connection.connect()
    expect(lease.client.options).toMatchObject({
      tls: true,
      tlsCAFile: '/etc/ssl/certs/ca-certificates.crt',
      maxPoolSize: 7,
      connectTimeoutMS: 1234,
      minPoolSize: 0,
      serverSelectionTimeoutMS: lambdaClientDefaults.serverSelectionTimeoutMS,
    })
    await dispose()
  })
})

if (destructive) {
  describe.each(drivers)('%s, network faults in-process (stand-in only)', (_name, MongoClient) => {
    test('context.mongo.signal ends a read on a black-holed socket at the deadline, without closing the client', async () => {
      const proxy = await FaultProxy.start({ port: server.standIn!.port })
      const url = server.url().replace(`:${server.standIn!.port}/`, `:${proxy.port}/`)
      const { options, connection, dispose } = setup(MongoClient, {
        url,
        closeAtDeadline: false,
        marginMs: 200,
      })
      const handler = middy<{ blackhole: boolean }>()
        .use(mongoConnection(options))
        .handler(async (event, context) => {
          const orders = context.mongo.db.collection('orders')
          await orders.findOne({})
          if (event.blackhole) proxy.setMode('blackhole')
          const started = Date.now()
          const outcome = await orders.findOne({}, { signal: context.mongo.signal }).then(
            () => 'answered',
            (error: Error) => error.name,
          )
          return { outcome, waitedMs: Date.now() - started, remaining: context.getRemainingTimeInMillis() }
        })
      const result = await handler({ blackhole: true }, lambdaContext({ timeoutMs: 1_000 }))
      expect(result.outcome).not.toBe('answered')
      expect(result.remaining).toBeGreaterThan(0)
      expect(connection.counters.closes).toBe(0)
      proxy.setMode('pass')
      await proxy.close()
      await dispose()
    })

    test('a TLS handshake with a plain server fails as a ConnectError inside the deadline (eager)', async () => {
      const { options, dispose } = setup(MongoClient, {
        clientOptions: { tls: true, tlsAllowInvalidCertificates: true, serverSelectionTimeoutMS: 300 },
        eager: true,
      })
      const context = lambdaContext({ timeoutMs: 3_000 })
      const handler = middy()
        .use(mongoConnection(options))
        .handler(async () => 'never')
      const error = await handler({}, context).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ConnectError)
      expect((error as ConnectError).attempts).toBeGreaterThanOrEqual(1)
      expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0)
      await dispose()
    })
  })
}
