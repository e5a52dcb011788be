// Per-invocation overhead of mongo-connection against a bare Middy handler that uses a raw
// MongoClient cached at module scope: same process, same run, against a MongoDB stand-in (which
// runs in this process too, so both sides pay for it alike).
// Run `pnpm build` first, then: node packages/mongo-connection/bench/overhead.mjs
// Then issue 10's split: CPU per statement and per invocation (bench/cpu-split.mjs), pinned to one core.
// ROUNDS (default 5) rounds of TIME_MS (default 600) per task, in alternating order; the ratios
// are the median over rounds, so a slow round (GC, a busy neighbour) does not decide the result.

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import middy from '@middy/core'
import mongoConnection, { lambdaClientDefaults } from '@middy-downstream/mongo-connection'
import { MongoClient } from 'mongodb'
import { Bench } from 'tinybench'
import { cpuSplit, printSplit, runPinned } from '../../../bench/cpu-split.mjs'
import { fakeContext } from '../../lambda-sim/dist/index.js'
// The stand-in alone: the testing package's index also loads the Jest invariant suite.
import { MongoStandIn } from '../../testing/dist/mongo-standin/index.js'

// Pinned to one core (see bench/cpu-split.mjs): the parent only waits.
if (!runPinned()) process.exit()

const rounds = Number(process.env.ROUNDS ?? 5)
const timeMs = Number(process.env.TIME_MS ?? 600)

const standIn = await MongoStandIn.start()
const url = standIn.url()
const dbName = 'bench'

// The baseline gets the same driver options, so only the middleware's own work differs.
const raw = new MongoClient(url, { maxPoolSize: 2, minPoolSize: 0, serverMonitoringMode: 'poll' })
const rawDb = raw.db(dbName)
await rawDb.collection('orders').insertOne({ _id: 1, total: 42 })

const managed = (handler) => middy().use(mongoConnection({ url, dbName })).handler(handler)
const pairs = {
  findOne: {
    bare: middy().handler(async () => rawDb.collection('orders').findOne({ _id: 1 })),
    managed: managed(async (_event, context) => context.mongo.db.collection('orders').findOne({ _id: 1 })),
  },
  'no database call': {
    bare: middy().handler(async () => rawDb.databaseName),
    managed: managed(async (_event, context) => context.mongo.db.databaseName),
  },
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const samples = Object.fromEntries(
  Object.keys(pairs).map((kind) => [kind, { bare: [], managed: [], p50: [] }]),
)
for (let round = 0; round < rounds; round++) {
  const bench = new Bench({ time: timeMs, warmupTime: 200 })
  const order = round % 2 === 0 ? ['bare', 'managed'] : ['managed', 'bare']
  for (const [kind, pair] of Object.entries(pairs)) {
    for (const side of order) bench.add(`${kind}|${side}`, () => pair[side]({}, fakeContext()))
  }
  await bench.run()
  for (const kind of Object.keys(pairs)) {
    const bare = bench.getTask(`${kind}|bare`).result.latency
    const withMiddleware = bench.getTask(`${kind}|managed`).result.latency
    samples[kind].bare.push(bare.mean)
    samples[kind].managed.push(withMiddleware.mean)
    samples[kind].p50.push(withMiddleware.p50 / bare.p50)
  }
}

const µs = (ms) => `${(ms * 1000).toFixed(1)} µs`
console.log(`mongo-connection overhead, ${rounds} rounds of ${timeMs} ms per task (Node ${process.version})`)
for (const [kind, s] of Object.entries(samples)) {
  const ratios = s.managed.map((m, i) => m / s.bare[i])
  console.log(
    `${kind.padEnd(17)} bare ${µs(median(s.bare))}, mongo-connection ${µs(median(s.managed))}: ` +
      `ratio ${median(ratios).toFixed(2)} (p50 ratio ${median(s.p50).toFixed(2)}), ` +
      `overhead ${µs(median(s.managed.map((m, i) => m - s.bare[i])))} per invocation`,
  )
}

// Issue 10's goal: CPU per statement and per invocation, from 1 and 11 findOne per invocation,
// against a stand-in in a child process: its work is then not counted in our CPU time (in this
// process it is most of it, and its garbage collections swamp a few microseconds).
const child = spawn(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    `import { MongoStandIn } from ${JSON.stringify(new URL('../../testing/dist/mongo-standin/index.js', import.meta.url).href)}
     const standIn = await MongoStandIn.start()
     console.log(standIn.url())`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
)
const [line] = await once(child.stdout, 'data')
const childUrl = String(line).trim()
// One driver client on both sides: the middleware is handed the very client the bare handler uses
// (its MongoClient option builds nothing new), so the difference is the middleware's own work. Two
// clients with the same options differed by 20–30 µs per 11 findOne, either way, from run to run.
const childRaw = new MongoClient(childUrl, { ...lambdaClientDefaults })
function SameClient() {
  return childRaw
}
const childDb = childRaw.db(dbName)
await childDb.collection('orders').insertOne({ _id: 1, total: 42 })
const finds = (db, n) => async () => {
  let found
  for (let i = 0; i < n; i++) found = await db.collection('orders').findOne({ _id: 1 })
  return found
}
const pair = (n) => ({
  bare: middy().handler(async () => finds(childDb, n)()),
  managed: middy()
    .use(mongoConnection({ url: childUrl, dbName, MongoClient: SameClient }))
    .handler(async (_event, context) => finds(context.mongo.db, n)()),
})
const split = await cpuSplit(
  { one: pair(1), eleven: pair(11) },
  { contextOf: fakeContext, rounds: 25, invocations: 300 },
)
printSplit('mongo-connection', 'findOne', split)
await childRaw.close()
child.kill()

await raw.close()
await standIn.stop()
// The managed client lives at module scope for the life of the process, as in Lambda.
process.exit(0)
