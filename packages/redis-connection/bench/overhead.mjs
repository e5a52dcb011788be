// Per-invocation overhead of redis-connection against a bare Middy handler that uses a raw,
// already-connected ioredis client (same process, same run, same private Redis), and the extra
// round trips per warm invocation, for ioredis 5 and 6; then issue 10's split: CPU per statement
// and per invocation (bench/cpu-split.mjs). Runs pinned to one core with its Redis, so the wall
// times include the server's work too, alike on both sides.
//
//   pnpm build && node packages/redis-connection/bench/overhead.mjs
import middy from '@middy/core'
import redisConnection, { createRedisClient } from '@middy-downstream/redis-connection'
import { build } from 'esbuild'
import { Redis as Redis5 } from 'ioredis'
import { Redis as Redis6 } from 'ioredis6'
import { Bench } from 'tinybench'
import { cpuSplit, printSplit, runPinned } from '../../../bench/cpu-split.mjs'
// The servers by path: the testing package's index also loads its Jest invariant suite.
import { fakeContext } from '../../lambda-sim/dist/index.js'
import { RedisServer } from '../../testing/dist/servers/redis.js'

// Pinned to one core with its server (see bench/cpu-split.mjs): the parent only waits.
if (!runPinned()) process.exit()

// The handle is internal (dist/ is one bundle per entry): built here on its own, from src/.
const handleModule = new URL('../node_modules/.cache/bench/handle.mjs', import.meta.url)
await build({
  entryPoints: [new URL('../src/handle.ts', import.meta.url).pathname],
  outfile: handleModule.pathname,
  bundle: true,
  format: 'esm',
  platform: 'node',
  packages: 'external',
  logLevel: 'warning',
})
const { handleFor } = await import(handleModule.href)

const invocations = 1000
const server = await RedisServer.start()
await server.cli('SET', 'bench', 'value')

/** Commands the server processed, minus the INFO that reads the counter (not counted in itself). */
const commandsProcessed = () => server.info('total_commands_processed')

const handlerBody = (client) => client.get('bench')

const rows = []
let handleRow
let split
try {
  for (const [label, Redis] of [
    ['ioredis 5', Redis5],
    ['ioredis 6', Redis6],
  ]) {
    const raw = new Redis(server.url)
    await raw.ping()
    const bare = middy().handler(async () => handlerBody(raw))
    const options = { url: server.url, Redis }
    const managed = middy()
      .use(redisConnection(options))
      .handler(async (_event, context) => handlerBody(context.redis))
    // The middleware alone: a handler that gets the client and sends nothing.
    const bareEmpty = middy().handler(async () => 1)
    const managedEmpty = middy()
      .use(redisConnection(options))
      .handler(async (_event, context) => context.redis && 1)
    await managed({}, fakeContext())

    // Round trips: what the server processed for 1000 warm invocations, minus the handler's GETs.
    const extraRoundTrips = async (handler) => {
      const before = await commandsProcessed()
      for (let i = 0; i < invocations; i++) await handler({}, fakeContext())
      const after = await commandsProcessed()
      return (after - before - 1 - invocations) / invocations
    }
    const roundTrips = { bare: await extraRoundTrips(bare), managed: await extraRoundTrips(managed) }

    // Alternating rounds, so both sides see the same machine noise.
    const totals = { bare: [], managed: [], bareEmpty: [], managedEmpty: [] }
    for (let round = 0; round < 3; round++) {
      const bench = new Bench({ time: 700, warmupTime: 200 })
      bench
        .add('bare', () => bare({}, fakeContext()))
        .add('managed', () => managed({}, fakeContext()))
        .add('bareEmpty', () => bareEmpty({}, fakeContext()))
        .add('managedEmpty', () => managedEmpty({}, fakeContext()))
      await bench.run()
      for (const task of bench.tasks) totals[task.name].push(task.result.latency)
    }
    const mean = (list, field) => list.reduce((sum, s) => sum + s[field], 0) / list.length
    const base = { mean: mean(totals.bare, 'mean'), p50: mean(totals.bare, 'p50') }
    const ours = { mean: mean(totals.managed, 'mean'), p50: mean(totals.managed, 'p50') }
    rows.push({
      ioredis: label,
      'bare mean µs': +(base.mean * 1000).toFixed(1),
      'managed mean µs': +(ours.mean * 1000).toFixed(1),
      'ratio (mean)': +(ours.mean / base.mean).toFixed(3),
      'overhead µs (mean)': +((ours.mean - base.mean) * 1000).toFixed(1),
      'p50 bare/managed µs': `${(base.p50 * 1000).toFixed(1)}/${(ours.p50 * 1000).toFixed(1)}`,
      'ratio (p50)': +(ours.p50 / base.p50).toFixed(3),
      'middleware alone, p50 bare/managed µs': `${(mean(totals.bareEmpty, 'p50') * 1000).toFixed(1)}/${(mean(totals.managedEmpty, 'p50') * 1000).toFixed(1)}`,
      'extra round trips per warm invocation (bare/managed)': `${roundTrips.bare}/${roundTrips.managed}`,
    })
    // Issue 10's goal, split into per statement and per invocation (ioredis 5).
    if (label === 'ioredis 5') {
      const gets = (client, n) => {
        let value
        return async () => {
          for (let i = 0; i < n; i++) value = await client.get('bench')
          return value
        }
      }
      const pair = (n) => ({
        bare: middy().handler(async () => gets(raw, n)()),
        managed: middy()
          .use(redisConnection(options))
          .handler(async (_event, context) => gets(context.redis, n)()),
      })
      split = await cpuSplit(
        { one: pair(1), eleven: pair(11) },
        { contextOf: fakeContext, rounds: 25, invocations: 1000 },
      )
    }
    raw.disconnect()
    await createRedisClient(options).dispose()
  }
  // The per-invocation handle alone (the Proxy over the shared client, a new one per call here):
  // CPU time per awaited GET through it against the same raw client, best of 7 alternating runs.
  const raw = new Redis5(server.url)
  await raw.ping()
  const owner = { released: false, releasedError: () => new Error('released') }
  const cpuPerGet = async (clientFor) => {
    const start = process.cpuUsage()
    for (let i = 0; i < invocations; i++) await clientFor().get('bench')
    const used = process.cpuUsage(start)
    return (used.user + used.system) / invocations
  }
  const gets = { raw: Infinity, handle: Infinity }
  for (let run = 0; run < 7; run++) {
    gets.raw = Math.min(gets.raw, await cpuPerGet(() => raw))
    gets.handle = Math.min(gets.handle, await cpuPerGet(() => handleFor(raw, owner)))
  }
  handleRow = {
    'raw GET CPU µs': +gets.raw.toFixed(2),
    'GET through a new handle CPU µs': +gets.handle.toFixed(2),
    'handle cost µs': +(gets.handle - gets.raw).toFixed(2),
  }
  raw.disconnect()
} finally {
  await server.dispose()
}
console.log(
  `Node ${process.version}: latency per invocation of a handler doing one GET on a local private Redis ` +
    `(3 alternating rounds); extra round trips counted over ${invocations} warm invocations. The median ` +
    'is the steadier figure on a shared machine; the mean carries its scheduling noise. Wall times include ' +
    "the server's work where the run is pinned to one core with it.\n",
)
console.table(rows)
console.log('The per-invocation handle alone (ioredis 5):')
console.table([handleRow])
printSplit('redis-connection', 'GET', split)
