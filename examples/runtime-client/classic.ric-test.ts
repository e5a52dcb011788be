// The examples under the real Node.js runtime interface client (aws-lambda-ric, as Lambda's Node 24
// runtime runs them), classic mode: one invocation at a time, the process frozen (SIGSTOP) while
// it waits for the next event. `pnpm test:ric` installs the client and runs this tier.
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import {
  FaultProxy,
  MariaDbServer,
  MongoStandIn,
  RedisServer,
  RicEnvironment,
} from '@middy-downstream/testing'
import { cleanExit, mariaDbConnectionIds, redisConnectionIds } from './server-connections.js'

const example = (name: string) => path.resolve('examples', name)

describe('classic mode, frozen between invocations', () => {
  let mariadb: MariaDbServer
  let redis: RedisServer
  beforeAll(async () => {
    ;[mariadb, redis] = await Promise.all([MariaDbServer.start(), RedisServer.start()])
    await mariadb.sql('USE test')
    const { schema } = (await import(path.join(example('db-connection'), 'handler.mjs'))) as {
      schema: string[]
    }
    for (const statement of schema) await mariadb.sql(statement)
  })
  afterAll(() => Promise.all([mariadb.dispose(), redis.dispose()]))

  test('db-connection: the orders example, one connection reused across frozen invocations', async () => {
    const environment = await RicEnvironment.start({
      taskRoot: example('db-connection'),
      env: { DB_PORT: String(mariadb.port), DB_NAME: 'test' },
    })
    const results = [await environment.invoke({ order: { item: 'apple', quantity: 3 } })]
    const ids = [await mariaDbConnectionIds(mariadb)]
    for (let i = 0; i < 3; i++) {
      results.push(await environment.invoke({ id: 1 }))
      ids.push(await mariaDbConnectionIds(mariadb))
    }
    expect(results[0]).toMatchObject({ ok: true, value: { statusCode: 201, orderId: 1 } })
    for (const result of results.slice(1))
      expect(result).toMatchObject({ ok: true, value: { statusCode: 200, order: { item: 'apple' } } })
    // While frozen after each invocation: the same single connection.
    expect(new Set(ids.flat()).size).toBe(1)
    expect(ids.every((list) => list.length === 1)).toBe(true)
    cleanExit(await environment.close())
  })

  test('redis-connection: page views counted, one connection reused across frozen invocations', async () => {
    const environment = await RicEnvironment.start({
      taskRoot: example('redis-connection'),
      env: { REDIS_URL: redis.url },
    })
    const bodies: unknown[] = []
    const ids: string[][] = []
    for (let i = 0; i < 4; i++) {
      const result = await environment.invoke({ page: 'classic' })
      expect(result).toMatchObject({ ok: true })
      bodies.push((result.value as { body: string }).body)
      ids.push(await redisConnectionIds(redis))
    }
    expect(bodies).toEqual(['1 views', '2 views', '3 views', '4 views'])
    expect(new Set(ids.flat()).size).toBe(1)
    expect(ids.every((list) => list.length === 1)).toBe(true)
    cleanExit(await environment.close())
  })

  test('managed-instances example: every invocation on the one connection', async () => {
    const environment = await RicEnvironment.start({
      taskRoot: example('managed-instances'),
      env: { DB_PORT: String(mariadb.port) },
    })
    const ids: number[][] = []
    for (let i = 0; i < 3; i++) {
      expect(await environment.invoke({ pauseMs: 5 })).toMatchObject({ ok: true, value: { ok: true } })
      ids.push(await mariaDbConnectionIds(mariadb))
    }
    expect(new Set(ids.flat()).size).toBe(1)
    cleanExit(await environment.close())
  })

  test('event-loop-release: the async handler answers each time; the socket it leaves does not hold it', async () => {
    const environment = await RicEnvironment.start({ taskRoot: example('event-loop-release') })
    for (const name of ['a', 'b', 'c'])
      expect(await environment.invoke({ name })).toMatchObject({
        ok: true,
        value: { statusCode: 200, body: `hello ${name}` },
      })
    cleanExit(await environment.close())
  })

  test('event-loop-release: the runtime refuses a callback-style handler at init, and says so', async () => {
    // aws-lambda-ric 4 (Node 24) no longer runs `(event, context, callback)` handlers: the
    // README's callback entry points are for the Node 20/22 runtimes.
    const started = RicEnvironment.start({
      taskRoot: example('event-loop-release'),
      handler: 'handler.callbackHandler',
    })
    await expect(started).rejects.toThrow(/callback/i)
  })

  test('mongo-connection: orders counted through the stand-in, the pool reused across frozen invocations', async () => {
    const standIn = await MongoStandIn.start({ users: { shop: 'example-Pa55word' } })
    const proxy = await FaultProxy.start({ port: standIn.port })
    try {
      const environment = await RicEnvironment.start({
        taskRoot: example('mongo-connection'),
        env: {
          MONGO_URL: `mongodb://shop:example-Pa55word@127.0.0.1:${proxy.port}/?directConnection=true`,
        },
      })
      const counts: number[] = []
      for (let i = 1; i <= 3; i++) {
        expect(await environment.invoke({ customer: 'c1' })).toMatchObject({
          ok: true,
          value: { statusCode: 200, body: `c1 has ${i} order(s)` },
        })
        counts.push(proxy.openConnections.length)
      }
      // Whatever the driver keeps (a monitor and a pooled connection), it keeps the same.
      expect(new Set(counts).size).toBe(1)
      cleanExit(await environment.close())
    } finally {
      await proxy.close()
      await standIn.stop()
    }
  })
})
