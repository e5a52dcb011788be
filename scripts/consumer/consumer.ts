// What a TypeScript user writes after installing the packed tarballs: every package imported,
// every context handle used with its real type. Typechecked by scripts/check-consumer.mjs with
// `strict` and `skipLibCheck: false`, so a broken published .d.ts fails here.
import middy from '@middy/core'
import { Deadline, DownstreamError } from '@middy-downstream/core'
import dbConnection, { createDbConnection } from '@middy-downstream/db-connection'
import pgConnection, { type PgWriteResult } from '@middy-downstream/db-connection/postgres'
import eventLoopRelease from '@middy-downstream/event-loop-release'
import keepaliveAgent, { createHttpResources } from '@middy-downstream/keepalive-agent'
import { fakeContext, LambdaEnvironment } from '@middy-downstream/lambda-sim'
import mongoConnection from '@middy-downstream/mongo-connection'
import redisConnection from '@middy-downstream/redis-connection'
import type { Redis } from 'ioredis'
import type { Db, MongoClient } from 'mongodb'
import type { ResultSetHeader } from 'mysql2'

interface Order {
  id: number
  item: string
}

export const handler = middy<{ id: number }>()
  .use(eventLoopRelease({ reportLeftovers: 'warn' }))
  .use(dbConnection({ config: { host: 'db', user: 'app', password: 'secret', database: 'shop' } }))
  .use(redisConnection({ url: 'redis://cache:6379' }))
  .use(mongoConnection({ url: 'mongodb://mongo:27017', dbName: 'shop' }))
  .use(keepaliveAgent({ maxSockets: 64 }))
  .handler(async (event, context) => {
    const orders = await context.db.query<Order>('SELECT * FROM orders WHERE id = ?', [event.id])
    const first: Order | undefined = orders[0]
    const header = await context.db.execute<ResultSetHeader>('DELETE FROM carts WHERE id = ?', [event.id])
    const affected: number = header.affectedRows
    await context.db.transaction(async (tx) => {
      await tx.query('UPDATE stock SET n = n - 1 WHERE item = ?', [first?.item ?? ''])
    })
    const redis: Redis = context.redis
    const views: number = await redis.incr(`views:${event.id}`)
    const db: Db = context.mongo.db
    const client: MongoClient = context.mongo.client
    const doc = await db.collection<Order>('orders').findOne({ id: event.id })
    const response = await fetch('http://api.internal/status', { dispatcher: context.http.dispatcher })
    return { first, affected, views, doc: doc?.item, client: typeof client, status: response.status }
  })

const db = createDbConnection({ config: { host: 'db', user: 'app', database: 'shop' } })
export const plain = async (event: { id: number }, context: ReturnType<typeof fakeContext>) => {
  const session = db.session(context)
  try {
    return await session.query<Order>('SELECT * FROM orders WHERE id = ?', [event.id])
  } finally {
    await session.release()
  }
}

export const deadline: Deadline = Deadline.fromContext(fakeContext({ timeoutMs: 3000 }), 500)
export const isDownstream = (error: unknown): boolean => error instanceof DownstreamError
export const resources = createHttpResources({ maxSockets: 64 })
export const start = (module: string) => LambdaEnvironment.start({ module, timeoutMs: 3000 })
export const dropped: number = resources.httpsAgent.dropIdleSockets() + resources.httpAgent.maxSockets

export const pgHandler = middy<{ id: number }>()
  .use(pgConnection({ config: { host: 'pg', user: 'app', database: 'shop' }, contextKey: 'pg' }))
  .handler(async (event, context) => {
    const rows = await context.pg.query<Order>('SELECT * FROM orders WHERE id = $1', [event.id])
    const write: PgWriteResult = await context.pg.query<PgWriteResult>('DELETE FROM carts WHERE id = $1', [
      event.id,
    ])
    return { item: rows[0]?.item, deleted: write.rowCount }
  })
