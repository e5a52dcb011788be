import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import middy from '@middy/core'
import type { LifecycleEvent } from '@middy-downstream/core'
import { fakeContext, RedisServer } from '@middy-downstream/testing'
import type { Redis } from 'ioredis'
import { createRedisClient, type RedisConnectionOptions, redisConnection } from '../src/index.js'
import { ioredisVersions, until } from './helpers.js'

type Ctx = { redis: Redis; cache: Redis }
type Work = (context: Ctx) => Promise<unknown>

let server: RedisServer
let created = 0
const disposers: Array<() => Promise<void>> = []

beforeAll(async () => {
  server = await RedisServer.start()
})
afterEach(async () => {
  await Promise.all(disposers.splice(0).map((dispose) => dispose()))
})
afterAll(() => server.dispose())

/** Referenced sockets to the server: what would keep a script or a callback-style invocation alive. */
const referencedSockets = () =>
  (process as unknown as { _getActiveHandles(): Array<{ remotePort?: number }> })
    ._getActiveHandles()
    .filter((handle) => handle.remotePort === server.port).length

/** Calls per command the server ran since the last reset, without the INFO that reads them. */
const commandStats = async (): Promise<Record<string, number>> => {
  const calls: Record<string, number> = {}
  for (const line of (await server.cli('INFO', 'commandstats')).split(/\r?\n/)) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line)
    if (match && match[1] !== 'info' && !match[1]!.startsWith('config')) calls[match[1]!] = Number(match[2])
  }
  return calls
}

describe.each([ioredisVersions[5], ioredisVersions[6]])('$label', ({ Redis }) => {
  /** A handler over a fresh managed client; `extra` middlewares run after ours. */
  const handlerFor = (work: Work, extra: object[] = [], more: RedisConnectionOptions = {}) => {
    const options = { url: server.url, Redis, config: { connectionName: `scope-${++created}` }, ...more }
    disposers.push(() => createRedisClient(options).dispose())
    const chain = middy().use(redisConnection(options))
    for (const middleware of extra) chain.use(middleware as never)
    return chain.handler(async (_event: unknown, context: unknown) => work(context as Ctx)) as unknown as (
      event: unknown,
      context: unknown,
    ) => Promise<unknown>
  }

  test('a MULTI left open by a throwing handler is discarded: the next invocation writes for real', async () => {
    const events: LifecycleEvent[] = []
    let step = 0
    const handler = handlerFor(
      async ({ redis }) => {
        if (step++ === 0) {
          await redis.multi({ pipeline: false })
          await redis.set('multi:lost', '1')
          throw new Error('before EXEC')
        }
        return [await redis.set('multi:next', 'stored'), await redis.get('multi:next')]
      },
      [],
      { onEvent: (event) => events.push(event) },
    )
    await expect(handler({}, fakeContext())).rejects.toThrow('before EXEC')
    expect(await handler({}, fakeContext())).toEqual(['OK', 'stored'])
    expect(await server.cli('EXISTS', 'multi:lost')).toBe('0')
    expect(events.filter((e) => e.type === 'reset')).toMatchObject([{ ok: true }])
  })

  test('a SUBSCRIBE left open does not break the next invocation, nor another middleware on the same client', async () => {
    const options = { url: server.url, Redis, config: { connectionName: `scope-${++created}` } }
    disposers.push(() => createRedisClient(options).dispose())
    let step = 0
    const handler = middy()
      .use(redisConnection(options))
      .use(redisConnection({ ...options, contextKey: 'cache' }))
      .handler(async (_event: unknown, context: unknown) => {
        const { redis, cache } = context as Ctx
        if (step++ === 0) {
          await redis.subscribe('news')
          return 'subscribed'
        }
        return [await redis.set('sub:k', 'v'), await cache.get('sub:k')]
      }) as unknown as (event: unknown, context: unknown) => Promise<unknown>
    expect(await handler({}, fakeContext())).toBe('subscribed')
    expect(await handler({}, fakeContext())).toEqual(['OK', 'v'])
  })

  test('SELECT and WATCH are undone at release; the configured database is kept', async () => {
    let step = 0
    const handler = handlerFor(
      async ({ redis }) => {
        if (step++ === 0) {
          await redis.select(4)
          await redis.watch('w:key')
          return 'left'
        }
        await server.cli('-n', '2', 'SET', 'w:key', 'changed elsewhere')
        return [await redis.get('db:marker'), await redis.multi().set('w:key', 'mine').exec()]
      },
      [],
      { url: `${server.url}/2` },
    )
    await server.cli('-n', '2', 'SET', 'db:marker', 'db 2')
    expect(await handler({}, fakeContext())).toBe('left')
    expect(await handler({}, fakeContext())).toEqual(['db 2', [[null, 'OK']]])
  })

  test('a BLPOP still waiting at the deadline has its connection destroyed then: a later push is not popped to nobody', async () => {
    const list = `blpop:${created}`
    const handler = handlerFor(
      async ({ redis }) => {
        const error = await redis.blpop(list, 5).catch((e: unknown) => e)
        // The handler carries on after the deadline error; the invocation is not released yet.
        await until(async () => (await server.info('blocked_clients')) === 0)
        await server.cli('RPUSH', list, 'item')
        const left = await server.cli('LLEN', list)
        return { error: (error as Error).name, left }
      },
      [],
      { marginMs: 1500 },
    )
    // The deadline falls 1.5 s in; the Lambda timeout 1.5 s later leaves time to push and look.
    expect(await handler({}, fakeContext({ timeoutMs: 3000 }))).toEqual({ error: 'DeadlineError', left: '1' })
  })

  test('ordinary invocations send nothing but their own commands (no reset, no ping)', async () => {
    const handler = handlerFor(({ redis }) => redis.get('plain'))
    await handler({}, fakeContext())
    await server.cli('CONFIG', 'RESETSTAT')
    for (let i = 0; i < 40; i++) await handler({}, fakeContext())
    expect(await commandStats()).toEqual({ get: 40 })
  })

  test('after an early return by a later middleware, no socket of ours stays referenced', async () => {
    const earlyReturn = {
      before: async (request: { context: Ctx }) => {
        await request.context.redis.get('early')
        return { statusCode: 401 }
      },
    }
    const handler = handlerFor(async () => 'never', [earlyReturn])
    const baseline = referencedSockets()
    expect(await handler({}, fakeContext())).toEqual({ statusCode: 401 })
    expect(referencedSockets()).toBe(baseline)
  })

  test('a socket is referenced while a command is in flight', async () => {
    let during = -1
    const handler = handlerFor(async ({ redis }) => {
      await redis.ping()
      const pending = redis.blpop(`ref:${created}`, 0.2)
      during = referencedSockets()
      return pending
    })
    const baseline = referencedSockets()
    await handler({}, fakeContext())
    expect(during).toBe(baseline + 1)
    expect(referencedSockets()).toBe(baseline)
  })

  test('a pipeline built during the invocation and run after it fails at once and sends nothing', async () => {
    let late: ReturnType<Redis['pipeline']> | undefined
    const handler = handlerFor(async ({ redis }) => {
      late = redis.pipeline().set('late:k', '1')
      return redis.ping()
    })
    await handler({}, fakeContext())
    await expect(late?.exec()).rejects.toMatchObject({ name: 'ReleasedError' })
    expect(await server.cli('EXISTS', 'late:k')).toBe('0')
  })
})
