// A Lambda handler that counts page views in Redis: the same business code with the middleware
// (`handler`) and with a plain module-scope ioredis client (`unmanaged`), as most Lambda code has it.
import middy from '@middy/core'
import redisConnection from '@middy-downstream/redis-connection'
import { Redis } from 'ioredis'

const countView = async (redis, event) => {
  const key = `views:${event.page ?? 'home'}`
  const views = await redis.incr(key)
  await redis.expire(key, 3600)
  return { statusCode: 200, body: `${views} views` }
}

/** With redis-connection: one connection per environment, every command bounded by the deadline. */
export const handler = middy()
  .use(redisConnection({ url: process.env.REDIS_URL }))
  .handler(async (event, context) => countView(context.redis, event))

/** Without it: ioredis defaults (offline queue, 20 retries per command, no command timeout). */
const redis = new Redis(process.env.REDIS_URL, { lazyConnect: true })
redis.on('error', () => {})
export const unmanaged = async (event) => countView(redis, event)
