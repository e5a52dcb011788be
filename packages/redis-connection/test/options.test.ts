import { describe, expect, test } from '@jest/globals'
import middy from '@middy/core'
import { rememberSecret } from '@middy-downstream/core'
import type { Context } from 'aws-lambda'
import type { Cluster, Redis } from 'ioredis'
import { isAuthError, isConnectionError, scrubError } from '../src/errors.js'
import redisConnection, { createRedisClient, defaults, type RedisConnectionContext } from '../src/index.js'
import { resolveSettings, settingsKey } from '../src/options.js'
import { ioredisVersions } from './helpers.js'

describe('options', () => {
  test.each([
    ['a typo', { urll: 'redis://x' }, 'unknown option "urll" (did you mean "url"?)'],
    [
      'an http URL',
      { url: 'http://cache:6379' },
      'option "url" must be a redis:// or rediss:// URL, got a string of length 17',
    ],
    [
      'an unknown release',
      { release: 'drop' },
      'option "release" must be one of "keep", "close", "quit", "disconnect"',
    ],
    ['a negative margin', { marginMs: -1 }, 'option "marginMs" must be an integer >= 0'],
    [
      'no connect attempt',
      { connectAttempts: 0 },
      'option "connectAttempts" must be an integer >= 1 and <= 100',
    ],
    [
      'a numeric password',
      { password: 42 },
      'option "password" must be a string or a function, got number; pass the password',
    ],
    ['a class that is not ioredis', { Redis: class {} }, 'option "Redis" must be the Redis class of ioredis'],
    [
      'a cluster without nodes',
      { cluster: { nodes: [] } },
      'option "cluster" must be an object { nodes: [...startup nodes], options? }',
    ],
    [
      'url and cluster',
      { url: 'redis://a', cluster: { nodes: ['a:1'] } },
      'options "url" and "cluster" exclude each other',
    ],
    [
      'a retryStrategy',
      { config: { retryStrategy: () => 1 } },
      'option "config.retryStrategy" is set by @middy-downstream/redis-connection',
    ],
    [
      'an ioredis commandTimeout',
      { config: { commandTimeout: 5 } },
      'option "config.commandTimeout" is set by @middy-downstream/redis-connection; use commandTimeoutMs',
    ],
    [
      'a cluster lazyConnect',
      { cluster: { nodes: ['a:1'], options: { lazyConnect: false } } },
      'option "cluster.options.lazyConnect" is set',
    ],
    [
      'a provider in config',
      { config: { password: () => 'x' } },
      'option "config.password" must be a string; pass a provider function as the top-level "password" option',
    ],
  ])('%s is rejected at construction with a TypeError naming the option', (_label, options, message) => {
    expect(() => redisConnection(options as never)).toThrow(TypeError)
    expect(() => redisConnection(options as never)).toThrow(message)
    expect(() => createRedisClient(options as never)).toThrow(message)
  })

  test('a rejected value is described, never printed', () => {
    expect(() => redisConnection({ url: 'http://user:s3cret-value@cache' })).toThrow(
      /got a string of length \d+$/,
    )
  })

  test('the defaults', () => {
    expect(defaults).toEqual({
      contextKey: 'redis',
      eager: false,
      release: 'keep',
      marginMs: 200,
      connectTimeoutMs: 1000,
      connectAttempts: 3,
      validateAfterIdleMs: 5000,
      validateTimeoutMs: 250,
      closeTimeoutMs: 250,
      resendUnfulfilledCommands: false,
    })
  })
})

describe('registry key', () => {
  const { Redis } = ioredisVersions[5]
  const key = (options: object) => settingsKey(resolveSettings(options, Redis))

  test('same connection settings share a client; per-invocation options do not matter', () => {
    expect(key({ url: 'redis://cache:6379' })).toBe(
      key({ url: 'redis://cache:6379', release: 'quit', marginMs: 50 }),
    )
    expect(key({ url: 'redis://cache:6379' })).not.toBe(key({ url: 'redis://cache:6380' }))
    expect(key({ url: 'redis://cache:6379' })).not.toBe(
      key({ url: 'redis://cache:6379', Redis: ioredisVersions[6].Redis }),
    )
  })

  test('two passwords never share a client, and the key reveals neither', () => {
    const one = key({ url: 'redis://:first-secret@cache:6379' })
    const two = key({ url: 'redis://:second-secret@cache:6379' })
    expect(one).not.toBe(two)
    expect(key({ url: 'redis://cache', password: 'a-password' })).not.toBe(
      key({ url: 'redis://cache', password: 'b-password' }),
    )
    expect(`${one}${two}`).not.toMatch(/secret/)
    const providerA = async () => 'token'
    const providerB = async () => 'token'
    expect(key({ url: 'redis://cache', password: providerA })).toBe(
      key({ url: 'redis://cache', password: providerA }),
    )
    expect(key({ url: 'redis://cache', password: providerA })).not.toBe(
      key({ url: 'redis://cache', password: providerB }),
    )
  })

  test('functions inside the ioredis config count by identity, not by name and length', () => {
    // Two same-length wrappers (a tracing connector, a certificate check) are two configs.
    const checkA = () => undefined
    const checkB = () => undefined
    const tlsKey = (check: () => undefined) =>
      key({ url: 'rediss://cache:6379', config: { tls: { checkServerIdentity: check } } })
    expect(tlsKey(checkA)).toBe(tlsKey(checkA))
    expect(tlsKey(checkA)).not.toBe(tlsKey(checkB))
    class TracingA extends Redis {}
    class TracingB extends Redis {}
    expect(key({ url: 'redis://cache', Redis: TracingA })).not.toBe(
      key({ url: 'redis://cache', Redis: TracingB }),
    )
  })
})

describe('error classification', () => {
  test('authentication failures, as Redis 5 to 7 word them', () => {
    expect(isAuthError(new Error('WRONGPASS invalid username-password pair or user is disabled.'))).toBe(true)
    expect(isAuthError(new Error('NOAUTH Authentication required.'))).toBe(true)
    expect(isAuthError(new Error('Ready check failed: NOAUTH Authentication required.'))).toBe(true)
    expect(isAuthError(new Error('ERR invalid password'))).toBe(true)
    expect(isAuthError(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBe(
      false,
    )
  })

  test('connection failures, as ioredis reports them', () => {
    expect(
      isConnectionError(
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      ),
    ).toBe(true)
    expect(isConnectionError(new Error('Connection is closed.'))).toBe(true)
    expect(isConnectionError(Object.assign(new Error('x'), { name: 'MaxRetriesPerRequestError' }))).toBe(true)
    expect(
      isConnectionError(new Error('Connection in subscriber mode, only subscriber commands may be used')),
    ).toBe(false)
  })

  test('scrubbing removes the password from an AUTH error and the arguments ioredis attaches', () => {
    rememberSecret('hunter2-hunter2')
    const error = Object.assign(new Error('WRONGPASS for hunter2-hunter2'), {
      command: { name: 'auth', args: ['default', 'hunter2-hunter2'] },
    })
    const hello = Object.assign(new Error('NOPROTO'), {
      command: { name: 'hello', args: ['3', 'AUTH', 'default', 'unremembered-token'] },
    })
    scrubError(error)
    scrubError(hello)
    expect(JSON.stringify({ ...error, message: error.message, stack: error.stack })).not.toContain(
      'hunter2-hunter2',
    )
    expect(error.command.args).toEqual(['default', '***'])
    expect(hello.command.args).toEqual(['3', 'AUTH', 'default', '***'])
  })
})

describe('typing', () => {
  // Compile-time checks (pnpm typecheck): the handler sees the client without a cast. Nothing
  // connects: the client is created on the first invocation and connects on its first command.
  test('context.redis is a Redis, a Cluster in cluster mode, under a custom key when asked', () => {
    const standalone = middy()
      .use(redisConnection({ url: 'redis://127.0.0.1:1' }))
      .handler(async (_event, context) => {
        const client: Redis = context.redis
        return client.get('k')
      })
    const cluster = middy()
      .use(redisConnection({ cluster: { nodes: [{ host: '127.0.0.1', port: 1 }] } }))
      .handler(async (_event, context) => {
        const client: Cluster = context.redis
        return client.get('k')
      })
    const custom = middy()
      .use(redisConnection({ url: 'redis://127.0.0.1:1', contextKey: 'cache' }))
      .handler(async (_event, context) => context.cache.get('k'))
    const explicit = middy<{ id: string }, string | null, Error, Context & RedisConnectionContext>()
      .use(redisConnection({ url: 'redis://127.0.0.1:1' }))
      .handler(async (event, context) => context.redis.get(event.id))
    const without = middy().handler(async (_event, context) => {
      // @ts-expect-error: without the middleware the context has no client
      return context.redis
    })
    for (const handler of [standalone, cluster, custom, explicit, without])
      expect(typeof handler).toBe('function')
  })
})
