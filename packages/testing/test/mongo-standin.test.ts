import { createRequire } from 'node:module'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { BSON } from 'bson'
import { MongoClient, ObjectId } from 'mongodb'
import type { MongoClient as MongoClient6Type } from '../../mongo-connection/node_modules/mongodb6/mongodb.js'
import { MongoStandIn } from '../src/mongo-standin/index.js'

const require = createRequire(import.meta.url)
const { MongoClient: MongoClient6 } =
  require('../../mongo-connection/node_modules/mongodb6/lib/index.js') as {
    MongoClient: typeof MongoClient6Type
  }

const fast = { serverSelectionTimeoutMS: 1500, connectTimeoutMS: 1500 }

/** Retries an operation until it succeeds (or the deadline passes). */
async function eventually<T>(op: () => Promise<T>, deadlineMs = 10_000): Promise<T> {
  const end = Date.now() + deadlineMs
  for (;;) {
    try {
      return await op()
    } catch (err) {
      if (Date.now() > end) throw err
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

describe('MongoStandIn with driver 7', () => {
  let standIn: MongoStandIn
  let client: MongoClient
  let poolConnectionsCreated = 0

  beforeAll(async () => {
    standIn = await MongoStandIn.start()
    client = new MongoClient(standIn.url({ dbName: 'app' }), fast)
    client.on('connectionCreated', () => poolConnectionsCreated++)
    await client.connect()
  })

  afterAll(async () => {
    await client.close()
    await standIn.stop()
  })

  test('handshake and ping; connectionsAccepted counts the real sockets', async () => {
    expect(await client.db('admin').command({ ping: 1 })).toEqual({ ok: 1 })
    // Pool connections plus the one monitoring connection (polling: no RTT pinger).
    expect(standIn.connectionsAccepted).toBe(poolConnectionsCreated + 1)
    expect(standIn.openConnections).toBe(standIn.connectionsAccepted)
    expect(standIn.commandCounts.ismaster).toBeGreaterThanOrEqual(1) // legacy OP_QUERY handshake
    expect(standIn.commandCounts.ping).toBe(1)
  })

  test('insert, findOne, find with filter/sort/limit, getMore', async () => {
    const coll = client.db().collection<{ _id?: ObjectId; n: number; tag?: string }>('items')
    const one = await coll.insertOne({ n: 0, tag: 'first' })
    expect(one.insertedId).toBeInstanceOf(ObjectId)
    const many = await coll.insertMany([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }])
    expect(many.insertedCount).toBe(4)

    const found = await coll.findOne({ _id: one.insertedId })
    expect(found).toEqual({ _id: one.insertedId, n: 0, tag: 'first' })
    expect(found?._id?.equals(one.insertedId)).toBe(true)

    const top = await coll
      .find({ n: { $gte: 1, $ne: 4 } })
      .sort({ n: -1 })
      .limit(2)
      .toArray()
    expect(top.map((d) => d.n)).toEqual([3, 2])
    expect(await coll.find({ n: { $in: [0, 4] } }, { projection: { _id: 0, n: 1 } }).toArray()).toEqual([
      { n: 0 },
      { n: 4 },
    ])
    expect(await coll.countDocuments({ n: { $lt: 2 } })).toBe(2)

    const before = standIn.commandCounts.getmore ?? 0
    const all = await coll.find({}).batchSize(2).toArray()
    expect(all.map((d) => d.n)).toEqual([0, 1, 2, 3, 4])
    expect((standIn.commandCounts.getmore ?? 0) - before).toBe(2)
  })

  test('update ($set, upsert), delete, count', async () => {
    const coll = client.db().collection<{ _id?: ObjectId | string; k: string; v?: number; w?: number }>('kv')
    await coll.insertMany([
      { k: 'a', v: 1 },
      { k: 'b', v: 2 },
      { k: 'c', v: 3 },
    ])
    const set = await coll.updateOne({ k: 'a' }, { $set: { v: 10 }, $inc: { w: 1 } })
    expect([set.matchedCount, set.modifiedCount]).toEqual([1, 1])
    expect(await coll.findOne({ k: 'a' }, { projection: { _id: 0 } })).toEqual({ k: 'a', v: 10, w: 1 })

    const up = await coll.updateOne({ _id: 'z', k: 'z' }, { $set: { v: 26 } }, { upsert: true })
    expect(up.upsertedId).toBe('z')
    expect(up.upsertedCount).toBe(1)
    expect(await coll.findOne({ _id: 'z' })).toEqual({ _id: 'z', k: 'z', v: 26 })

    const replaced = await coll.replaceOne({ k: 'b' }, { k: 'b', v: 20 })
    expect(replaced.modifiedCount).toBe(1)
    const multi = await coll.updateMany({ v: { $gt: 5 } }, { $unset: { w: '' } })
    expect(multi.matchedCount).toBe(3)

    expect((await coll.deleteMany({ v: { $gte: 20 } })).deletedCount).toBe(2)
    expect(await coll.countDocuments()).toBe(2)
    expect(await coll.estimatedDocumentCount()).toBe(2)
  })

  test('duplicate _id and unknown commands answer like the real server', async () => {
    const coll = client.db().collection<{ _id: number }>('dups')
    await coll.insertOne({ _id: 1 })
    await expect(coll.insertOne({ _id: 1 })).rejects.toMatchObject({ code: 11000 })
    await expect(client.db().command({ frobnicate: 1 })).rejects.toMatchObject({
      code: 59,
      codeName: 'CommandNotFound',
      errmsg: "no such command: 'frobnicate'",
    })
    expect(await client.db().listCollections().toArray()).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'dups' })]),
    )
    expect(await client.db().collection('dups').drop()).toBe(true)
  })
})

describe('MongoStandIn with driver 6', () => {
  test('basic CRUD', async () => {
    const standIn = await MongoStandIn.start()
    const client = new MongoClient6(standIn.url(), fast)
    try {
      const coll = client.db('six').collection<{ n: number; s?: string }>('c')
      await coll.insertMany([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }])
      expect((await coll.findOne({ n: 3 }))?.n).toBe(3)
      expect(
        (
          await coll
            .find({ n: { $lte: 4 } })
            .sort({ n: -1 })
            .batchSize(2)
            .toArray()
        ).map((d) => d.n),
      ).toEqual([4, 3, 2, 1])
      expect((await coll.updateOne({ n: 9 }, { $set: { s: 'x' } }, { upsert: true })).upsertedCount).toBe(1)
      expect((await coll.deleteMany({ n: { $in: [1, 2] } })).deletedCount).toBe(2)
      expect(await coll.countDocuments()).toBe(4)
      expect(standIn.commandCounts.getmore).toBe(1)
    } finally {
      await client.close()
      await standIn.stop()
    }
  })
})

describe('SCRAM-SHA-256 authentication', () => {
  let standIn: MongoStandIn
  beforeAll(async () => {
    standIn = await MongoStandIn.start({ users: { alice: 'pässword-1' } })
  })
  afterAll(() => standIn.stop())

  test('the right password works (driver 7 and driver 6)', async () => {
    for (const Client of [MongoClient, MongoClient6] as (typeof MongoClient)[]) {
      const client = new Client(
        standIn.url({ username: 'alice', password: 'pässword-1', dbName: 'sec' }),
        fast,
      )
      try {
        await client.db().collection('c').insertOne({ a: 1 })
        expect(await client.db().collection('c').countDocuments()).toBeGreaterThanOrEqual(1)
      } finally {
        await client.close()
      }
    }
    expect(standIn.commandCounts.saslstart).toBeGreaterThanOrEqual(2)
  })

  test('a wrong password fails with code 18 and does not leak the password', async () => {
    const client = new MongoClient(standIn.url({ username: 'alice', password: 'wrong-secret' }), fast)
    try {
      const err = (await client.connect().then(
        () => undefined,
        (e: unknown) => e,
      )) as { code?: number; message: string }
      expect(err).toBeInstanceOf(Error)
      expect(err.code).toBe(18)
      expect(err.message).toContain('Authentication failed')
      expect(err.message).not.toContain('wrong-secret')
    } finally {
      await client.close()
    }
  })

  test('commands without authentication are refused', async () => {
    const client = new MongoClient(standIn.url(), fast)
    try {
      await expect(client.db('sec').collection('c').findOne({})).rejects.toMatchObject({ code: 13 })
    } finally {
      await client.close()
    }
  })
})

describe('lifecycle', () => {
  test('restart keeps data and the port; the client recovers', async () => {
    const standIn = await MongoStandIn.start()
    const client = new MongoClient(standIn.url(), { ...fast, heartbeatFrequencyMS: 500 })
    try {
      const coll = client.db('r').collection('c')
      await coll.insertOne({ _id: 'kept' } as never)
      const port = standIn.port
      await standIn.restart()
      expect(standIn.port).toBe(port)
      expect(await eventually(() => coll.findOne({ _id: 'kept' } as never))).toEqual({ _id: 'kept' })
      expect(standIn.connectionsAccepted).toBeGreaterThan(2)
    } finally {
      await client.close()
      await standIn.stop()
    }
  })

  test('stop() resolves promptly with clients still connected and closes every socket', async () => {
    const standIn = await MongoStandIn.start()
    const client = new MongoClient(standIn.url(), fast)
    await client.db().command({ ping: 1 })
    expect(standIn.openConnections).toBeGreaterThan(0)
    await standIn.stop()
    expect(standIn.openConnections).toBe(0)
    await client.close()
    await standIn.stop() // idempotent
  })

  test('frames split across TCP chunks are reassembled; garbage is answered, not fatal', async () => {
    const standIn = await MongoStandIn.start()
    const socket = net.connect(standIn.port, standIn.host)
    try {
      await new Promise((r) => socket.once('connect', r))
      const opMsg = (requestId: number, doc: object, opCode = 2013): Buffer => {
        const body = BSON.serialize(doc)
        const head = Buffer.alloc(21)
        head.writeInt32LE(21 + body.length, 0)
        head.writeInt32LE(requestId, 4)
        head.writeInt32LE(opCode, 12)
        return Buffer.concat([head, body])
      }
      const replies: Buffer[] = []
      let pending = Buffer.alloc(0)
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk])
        while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
          replies.push(pending.subarray(0, pending.readInt32LE(0)))
          pending = pending.subarray(pending.readInt32LE(0))
        }
      })
      const bytes = Buffer.concat([opMsg(7, { hello: 1, $db: 'admin' }), opMsg(8, { x: 1 }, 2012)])
      for (const byte of bytes) {
        socket.write(Buffer.from([byte]))
        await new Promise((r) => setImmediate(r))
      }
      await eventually(async () => {
        if (replies.length < 2) throw new Error('waiting')
      }, 3000)
      const hello = BSON.deserialize(replies[0].subarray(21))
      expect(replies[0].readInt32LE(8)).toBe(7)
      expect(hello).toMatchObject({ isWritablePrimary: true, maxWireVersion: 21, ok: 1 })
      expect(BSON.deserialize(replies[1].subarray(21))).toMatchObject({ ok: 0 })
    } finally {
      socket.destroy()
      await standIn.stop()
    }
  })
})
