// Per-invocation cost of downstream-guard: a handler doing one GET through redis-connection, with
// and without the guard in front (same process, same private Redis, same managed client), and the
// extra Redis round trips the guard adds per invocation (one to acquire, one to release).
//
//   pnpm build && node packages/downstream-guard/bench/overhead.mjs
import middy from '@middy/core'
import downstreamGuard from '@middy-downstream/downstream-guard'
import redisConnection, { createRedisClient } from '@middy-downstream/redis-connection'
import { fakeContext, RedisServer } from '@middy-downstream/testing'
import { Bench } from 'tinybench'

const invocations = 1000
const server = await RedisServer.start()
await server.cli('SET', 'bench', 'value')

// Commands the managed client sends (the server's own counter also counts those a script runs).
let sent = 0
const countSent = async (options) => {
  const client = await createRedisClient(options).client()
  const send = client.sendCommand
  client.sendCommand = function (...args) {
    sent += 1
    return send.apply(this, args)
  }
  await createRedisClient(options).release()
}

const rows = []
try {
  const options = { url: server.url }
  const body = async (_event, context) => context.redis.get('bench')
  const bare = middy().use(redisConnection(options)).handler(body)
  const limits = {
    'concurrency 100': { concurrency: 100 },
    'rate 1e6/s': { rate: 1e6, burst: 1000 },
    both: { concurrency: 100, rate: 1e6, burst: 1000 },
  }
  const guarded = Object.fromEntries(
    Object.entries(limits).map(([label, limit]) => [
      label,
      middy()
        .use(redisConnection(options))
        .use(downstreamGuard({ name: `bench-${label}`, redis: options, ...limit }))
        .handler(body),
    ]),
  )
  await countSent(options)
  const extraRoundTrips = async (handler) => {
    const before = sent
    for (let i = 0; i < invocations; i++) await handler({}, fakeContext())
    return (sent - before - invocations) / invocations
  }
  const trips = { bare: await extraRoundTrips(bare) }
  for (const [label, handler] of Object.entries(guarded)) trips[label] = await extraRoundTrips(handler)

  // Alternating rounds, so every side sees the same machine noise.
  const totals = Object.fromEntries(['bare', ...Object.keys(guarded)].map((name) => [name, []]))
  for (let round = 0; round < 3; round++) {
    const bench = new Bench({ time: 700, warmupTime: 200 })
    bench.add('bare', () => bare({}, fakeContext()))
    for (const [label, handler] of Object.entries(guarded)) bench.add(label, () => handler({}, fakeContext()))
    await bench.run()
    for (const task of bench.tasks) totals[task.name].push(task.result.latency)
  }
  const mean = (list, field) => list.reduce((sum, s) => sum + s[field], 0) / list.length
  const base = mean(totals.bare, 'p50')
  for (const [name, list] of Object.entries(totals)) {
    const p50 = mean(list, 'p50')
    rows.push({
      handler: name === 'bare' ? 'redis-connection only' : `+ guard, ${name}`,
      'p50 µs': +(p50 * 1000).toFixed(1),
      'mean µs': +(mean(list, 'mean') * 1000).toFixed(1),
      'ratio (p50)': +(p50 / base).toFixed(2),
      'extra round trips per invocation': trips[name],
    })
  }
  await createRedisClient(options).dispose()
} finally {
  await server.dispose()
}
console.log(
  `Node ${process.version}: latency per invocation of a handler doing one GET on a local private Redis, ` +
    `without and with the guard (3 alternating rounds); round trips counted over ${invocations} invocations.\n`,
)
console.table(rows)
