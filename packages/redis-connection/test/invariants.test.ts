import { RedisServer } from '@middy-downstream/testing'
import { type InvariantFixture, runInvariantSuite } from '@middy-downstream/testing/invariants'
import type { Redis } from 'ioredis'
import {
  createRedisClient,
  type ManagedRedis,
  type RedisConnectionOptions,
  redisConnection,
} from '../src/index.js'
import { type IoredisVersion, ioredisVersions } from './helpers.js'

const secret = 'inv-Redis-Secret-7c41e9'
let created = 0

/** A MULTI opened with `pipeline: false` (sent at once), a queued write, then a throw before EXEC. */
const throwInsideMulti = async (redis: Redis, marker: string): Promise<never> => {
  await redis.multi({ pipeline: false })
  await redis.set(marker, '1')
  throw new Error('mid-MULTI')
}

const fixtureFor = (version: IoredisVersion): InvariantFixture<Redis> => {
  let server: RedisServer
  let managed: ManagedRedis | undefined
  // Each create() gets its own managed client: the connection name is part of the registry key,
  // and names the fixture's connections on the server.
  let name = ''
  const options = (): RedisConnectionOptions => ({
    url: server.url,
    password: secret,
    Redis: version.Redis,
    config: { connectionName: name },
  })
  return {
    name: `redis-connection (${version.label})`,
    contextKey: 'redis',
    secret,
    setup: async () => {
      server = await RedisServer.start({ requirepass: secret })
    },
    teardown: () => server.dispose(),
    create: () => {
      name = `inv-${++created}`
      managed = createRedisClient(options())
      return { middleware: redisConnection(options()), exported: [managed, managed.manager] }
    },
    dispose: async () => {
      await managed?.dispose()
    },
    // A PING answered QUEUED (a MULTI left open on the connection) is a failure, not a truthy reply.
    use: async (redis) => {
      const reply = await redis.ping()
      if (reply !== 'PONG') throw new Error(`PING answered ${reply}`)
      return reply
    },
    ports: () => [server.port],
    serverConnections: async () =>
      (await server.cli('CLIENT', 'LIST')).split('\n').filter((line) => line.includes(` name=${name} `))
        .length,
    leaveState: async (redis) => {
      await redis.select(3)
      await redis.set('inv:in-db-3', '1')
      await redis.watch('inv:watched')
    },
    stateVisible: async (redis) => {
      if ((await redis.exists('inv:in-db-3')) === 1) return true
      // A WATCH left open makes this EXEC fail once another connection touched the key.
      await server.cli('SET', 'inv:watched', String(Date.now()))
      return (await redis.multi().set('inv:after-watch', '1').exec()) === null
    },
    throwMidUnit: throwInsideMulti,
    // A transaction built as a pipeline (`multi()`) is sent with its EXEC in one write, so a
    // concurrent plain command never lands inside it; a throw before `exec()` sends nothing.
    raceUnitAndPlain: (redis, marker, plain) =>
      Promise.allSettled([
        (async () => {
          const transaction = redis.multi().set(marker, '1')
          await redis.ping()
          if (transaction) throw new Error('mid-MULTI')
        })(),
        redis.set(plain, '1'),
      ]),
    written: async (redis, marker) => (await redis.exists(marker)) === 1,
    slowCommand: (redis, ms) => redis.blpop('inv:never-pushed', ms / 1000),
    badOptions: [
      [
        'a port that is not a number',
        () => redisConnection({ config: { port: 'abc' as never } }),
        'config.port',
      ],
      [
        'a contextKey that replaces the Lambda clock',
        () => redisConnection({ contextKey: 'getRemainingTimeInMillis' }),
        'option "contextKey"',
      ],
      [
        'a numeric password in config',
        () => redisConnection({ config: { password: 918273 as never } }),
        'option "config.password" must be a string',
      ],
      [
        'a release policy we do not know',
        () => redisConnection({ release: 'drop' as never }),
        'option "release"',
      ],
    ],
  }
}

runInvariantSuite(fixtureFor(ioredisVersions[5]))
runInvariantSuite(fixtureFor(ioredisVersions[6]))
