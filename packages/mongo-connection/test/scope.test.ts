// What the invocation scope guarantees for Mongo beyond the shared invariant suite: every handle
// getter guarded, nothing on the context or exported that prints the password, one client per
// credentials provider, sockets referenced only while held, and a deadline guard that never
// closes the client under another invocation's work (Lambda Managed Instances).
import { inspect } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import middy from '@middy/core'
import { fakeContext, MongoStandIn } from '@middy-downstream/testing'
import mongoConnection, {
  createMongoConnection,
  Deadline,
  DeadlineError,
  type MongoClientConstructor,
  type MongoContext,
  ReleasedError,
} from '../src/index.js'
import { drivers, uniqueDb } from './server.js'

const user = 'scope'
const secret = 'scope-Mongo-Secret-3d9b7e'
let standIn: MongoStandIn
beforeAll(async () => {
  standIn = await MongoStandIn.start({ users: { [user]: secret } })
})
afterAll(() => standIn.stop())

const lambdaContext = (timeoutMs = 5_000) => fakeContext({ timeoutMs }) as MongoContext

/** Referenced sockets to the stand-in: what keeps a script's process alive. */
const referencedSockets = () =>
  (process as unknown as { _getActiveHandles(): Array<{ remotePort?: number }> })
    ._getActiveHandles()
    .filter((handle) => handle.remotePort === standIn.port).length

describe.each(drivers)('%s', (_name, MongoClient: MongoClientConstructor) => {
  const options = (extra: object = {}) => ({
    url: standIn.url(),
    dbName: uniqueDb(),
    auth: { username: user, password: secret },
    MongoClient,
    ...extra,
  })

  test('every getter of a handle fails with ReleasedError once its invocation ended, also outside Middy', async () => {
    const current = options()
    let stashed: MongoContext['mongo'] | undefined
    const handler = middy()
      .use(mongoConnection(current))
      .handler(async (_event, context: MongoContext) => {
        stashed = context.mongo
        return context.mongo.db.command({ ping: 1 })
      })
    await handler({}, lambdaContext())
    for (const use of [() => stashed?.db, () => stashed?.client, () => stashed?.signal]) {
      expect(use).toThrow(ReleasedError)
      expect(use).toThrow(/context\.mongo\.(db|client|signal) was used after the invocation ended/)
    }
    const mongo = createMongoConnection(current)
    const lease = await mongo.connect(Deadline.none())
    await lease.db.command({ ping: 1 })
    await lease.release()
    expect(() => lease.db).toThrow(ReleasedError)
    await mongo.dispose()
  })

  test('console.log(context), the raw client and Db, a collection and the exported objects print no password', async () => {
    const current = options()
    const printed: string[] = []
    const log = (value: unknown) => printed.push(inspect(value))
    const handler = middy()
      .use(mongoConnection(current))
      .handler(async (_event, context: MongoContext) => {
        const { db, client } = context.mongo
        await db.collection('orders').insertOne({ total: 1 })
        log(context)
        printed.push(JSON.stringify(context), JSON.stringify(client), JSON.stringify(db))
        for (const value of [client, db, db.collection('orders'), client.db('other')]) {
          printed.push(inspect(value, { depth: Number.POSITIVE_INFINITY }))
        }
        return 'ok'
      })
    await handler({}, lambdaContext())
    const mongo = createMongoConnection(current)
    const lease = await mongo.connect()
    printed.push(inspect(mongo, { depth: 8 }), JSON.stringify(mongo), inspect(lease), JSON.stringify(lease))
    await lease.release()
    await mongo.dispose()
    expect(printed.length).toBeGreaterThan(8)
    for (const text of printed) expect(text).not.toContain(secret)
  })

  test('two configs that differ only in a same-length auth provider get two clients', async () => {
    const provider = (name: string) => () => ({ username: user, password: name === 'a' ? secret : secret })
    const [a, b] = [provider('a'), provider('b')]
    expect(a.toString().length).toBe(b.toString().length)
    const base = options({ auth: undefined })
    const first = createMongoConnection({ ...base, auth: a })
    const second = createMongoConnection({ ...base, auth: b })
    expect(first.key).not.toBe(second.key)
    expect(createMongoConnection({ ...base, auth: a }).key).toBe(first.key)
    const [leaseA, leaseB] = await Promise.all([first.connect(), second.connect()])
    expect(leaseA.client).not.toBe(leaseB.client)
    await Promise.all([leaseA.release(), leaseB.release()])
    await Promise.all([first.dispose(), second.dispose()])
  })

  test("sockets are referenced while an invocation holds the client, and not after it, so they never hold a script's process", async () => {
    const current = options()
    let during = -1
    const handler = middy()
      .use(mongoConnection(current))
      .handler(async (_event, context: MongoContext) => {
        await context.mongo.db.command({ ping: 1 })
        during = referencedSockets()
        return 'ok'
      })
    await handler({}, lambdaContext())
    expect(during).toBeGreaterThan(0)
    expect(standIn.openConnections).toBeGreaterThan(0)
    expect(referencedSockets()).toBe(0)
    await handler({}, lambdaContext())
    expect(referencedSockets()).toBe(0)
    await createMongoConnection(current).dispose()
  })

  test("one invocation's deadline never closes the client under another invocation's work (Managed Instances)", async () => {
    const current = options()
    const handler = middy<{ ms: number }>()
      .use(mongoConnection(current))
      .handler(async (event, context) => {
        const { db, signal } = context.mongo
        return db.command({ sleep: 1, millis: event.ms }, { signal })
      })
    // The short one's deadline (1000 ms) passes while the long one's command runs.
    const [short, long] = await Promise.allSettled([
      handler({ ms: 2_000 }, lambdaContext(1_500)),
      handler({ ms: 1_500 }, lambdaContext(10_000)),
    ])
    expect(long.status).toBe('fulfilled')
    // The short one's own operation was ended by its signal, not by closing the shared client.
    expect(short.status).toBe('rejected')
    expect(String((short as PromiseRejectedResult).reason)).toMatch(/abort|timed out/i)
    await createMongoConnection(current).dispose()
  })

  test('invocations all still running past their deadlines (Managed Instances): the client is closed at the latest one', async () => {
    const current = options()
    // Managed Instances do not enforce the timeout: Middy's own early timeout is off too.
    const handler = middy<{ ms: number }>({ timeoutEarlyInMillis: 0 })
      .use(mongoConnection(current))
      .handler(async (event, context) => context.mongo.db.command({ sleep: 1, millis: event.ms }))
    // Deadlines at 1000 and 1500 ms (marginMs 500); both commands would answer only at 5 s.
    const results = await Promise.allSettled([
      handler({ ms: 5_000 }, lambdaContext(1_500)),
      handler({ ms: 5_000 }, lambdaContext(2_000)),
    ])
    for (const result of results) {
      expect(result.status).toBe('rejected')
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(DeadlineError)
    }
    await createMongoConnection(current).dispose()
  })
})
