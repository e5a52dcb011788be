// A Lambda handler that counts a customer's orders in MongoDB, with and without the middleware.
// MONGO_URL: the server; VALIDATE_AFTER_IDLE_MS: the idle gap after which the client is pinged
// before the handler (invoke.mjs sets 0, standing for a freeze longer than the 10 s default).
import middy from '@middy/core'
import eventLoopRelease from '@middy-downstream/event-loop-release'
import mongoConnection from '@middy-downstream/mongo-connection'
import { MongoClient } from 'mongodb'

const countOrder = async (db, customer) => {
  const orders = db.collection('orders')
  await orders.updateOne({ _id: customer }, { $inc: { orders: 1 } }, { upsert: true })
  const { orders: count } = await orders.findOne({ _id: customer })
  return { statusCode: 200, body: `${customer} has ${count} order(s)` }
}

const events = []

/** With the middleware: one small pool per environment, checked after idle, bounded by the deadline. */
export const handler = middy()
  .use(eventLoopRelease())
  .use(
    mongoConnection({
      url: process.env.MONGO_URL,
      dbName: 'shop',
      validateAfterIdleMs: Number(process.env.VALIDATE_AFTER_IDLE_MS ?? 10_000),
      onEvent: (event) => events.push(event.action ? `${event.type}:${event.action}` : event.type),
    }),
  )
  .handler(async (event, context) => countOrder(context.mongo.db, event.customer))

/** The usual pattern: a client cached at module scope with the driver's defaults. */
let client
export const unmanaged = middy().handler(async (event) => {
  client ??= new MongoClient(process.env.MONGO_URL)
  return countOrder(client.db('shop'), event.customer)
})

/** The lifecycle events this environment saw (no secrets in them). */
export const lifecycle = () => events.splice(0)
