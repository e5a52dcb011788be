import type { MiddlewareObj, Request } from '@middy/core'
import { createManagedMiddleware } from '@middy-downstream/core'
import type { Cluster, Redis } from 'ioredis'
import { ManagedRedis } from './managed.js'
import {
  type ClusterConfig,
  checkOptions,
  defaults,
  type RedisClient,
  type RedisConnectionOptions,
} from './options.js'

/** The Lambda context type Middy hands to middlewares and handlers. */
type LambdaContext = Request['context']

/**
 * What the middleware adds to the context: the ioredis client under `contextKey`.
 *
 * @example
 * const handler = middy<Event, Result, Error, Context & RedisConnectionContext>()
 *   .use(redisConnection({ url }))
 *   .handler(async (event, context) => context.redis.get(event.key))
 */
export type RedisConnectionContext<K extends string = 'redis', TClient extends RedisClient = Redis> = {
  [P in K]: TClient
}

/**
 * The middleware's type: Middy's `.use()` adds `context[contextKey]` to the handler's context type.
 *
 * @example
 * const cache: RedisConnectionMiddleware<'cache', Redis> = redisConnection({ url, contextKey: 'cache' })
 */
export type RedisConnectionMiddleware<K extends string, TClient extends RedisClient> = MiddlewareObj<
  unknown,
  unknown,
  Error,
  LambdaContext & RedisConnectionContext<K, TClient>
>

/**
 * Middy middleware: puts the environment's ioredis client (a `Redis`, or a `Cluster` in cluster
 * mode) on `context.redis`. It connects on the first command (or in `before` with `eager`), is
 * reused by warm invocations, pinged after an idle gap and replaced when dead, and every command
 * sent during an invocation succeeds or fails with a typed error before the invocation's deadline
 * (its remaining time minus `marginMs`), whatever the network does.
 *
 * @example
 * import middy from '@middy/core'
 * import redisConnection from '@middy-downstream/redis-connection'
 *
 * export const handler = middy()
 *   .use(redisConnection({ url: process.env.REDIS_URL }))
 *   .handler(async (event, context) => {
 *     await context.redis.set(`order:${event.id}`, JSON.stringify(event), 'EX', 3600)
 *     return context.redis.get(`order:${event.id}`)
 *   })
 */
export function redisConnection<K extends string = 'redis'>(
  options: RedisConnectionOptions<K> & { cluster: ClusterConfig },
): RedisConnectionMiddleware<K, Cluster>
export function redisConnection<K extends string = 'redis'>(
  options?: RedisConnectionOptions<K>,
): RedisConnectionMiddleware<K, Redis>
export function redisConnection(
  options: RedisConnectionOptions<string> = {},
): RedisConnectionMiddleware<string, RedisClient> {
  checkOptions(options)
  const { contextKey = defaults.contextKey, eager = defaults.eager, ...clientOptions } = options
  const managed = new ManagedRedis<RedisClient>(clientOptions)
  return createManagedMiddleware<RedisClient>({
    name: 'redis-connection',
    contextKey,
    events: managed.events,
    marginMs: managed.marginMs,
    // The handle is the client itself, so it is acquired (no I/O on a warm, recently used client)
    // in before; it connects on its first command unless the user asked for eager.
    eager: true,
    begin: (_request, deadline, ids) => {
      const scope = managed.begin(deadline, ids)
      return {
        acquire: () => (eager ? scope.connected() : (scope.clientNow() ?? scope.client())),
        release: () => scope.releaseNow(),
      }
    },
  })
}
