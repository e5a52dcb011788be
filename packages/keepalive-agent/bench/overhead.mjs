// Per-invocation overhead of keepalive-agent against a bare Middy handler: same process, same
// run, ratios of time per invocation. No network: this is the middleware's own cost. Several
// rounds in rotating order, medians reported, so JIT warm-up and GC do not favour one side.
// Run after `pnpm build`: node packages/keepalive-agent/bench/overhead.mjs [rounds]
// (MIDDY_MAJOR=7, as scripts/with-node.mjs sets it, measures Middy 7 instead of 6.)
import keepaliveAgent, { createHttpResources } from '@middy-downstream/keepalive-agent'
import { Bench } from 'tinybench'

const middyMajor = process.env.MIDDY_MAJOR === '7' ? 7 : 6
const { default: middy } = middyMajor === 7 ? await import('middy7') : await import('@middy/core')
const rounds = Number(process.argv[2] ?? 5)
const context = () => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'bench',
  awsRequestId: 'bench',
  getRemainingTimeInMillis: () => 3000,
})
const business = async () => ({ statusCode: 200 })

const bare = middy().handler(business)
const withDefaults = middy().use(keepaliveAgent()).handler(business)
// Middy's own cost of one middleware with before, after and onError hooks that do nothing.
const withEmpty = middy()
  .use({ before: () => {}, after: () => {}, onError: () => {} })
  .handler(business)
// What the middleware does after a freeze longer than thawThresholdMs, measured on its own.
const resources = createHttpResources()

const tasks = [
  ['bare Middy handler', () => bare({}, context())],
  ['with an empty middleware', () => withEmpty({}, context())],
  ['with keepalive-agent', () => withDefaults({}, context())],
  ['dropIdleSockets() (the thaw path)', () => resources.dropIdleSockets()],
]
const samples = new Map(tasks.map(([name]) => [name, []]))
for (let round = 0; round < rounds; round++) {
  const bench = new Bench({ time: 500, warmupTime: 200 })
  for (let i = 0; i < tasks.length; i++) bench.add(...tasks[(i + round) % tasks.length])
  await bench.run()
  for (const task of bench.tasks) samples.get(task.name).push(task.result.latency.mean * 1e6)
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

console.log(`Node.js ${process.version}, Middy ${middyMajor}, median of ${rounds} rounds\n`)
const base = median(samples.get('bare Middy handler'))
for (const [name] of tasks) {
  const ns = median(samples.get(name))
  const ratio = name.startsWith('dropIdle') ? '' : `  ${(ns / base).toFixed(2)}x bare`
  console.log(`${name.padEnd(36)} ${ns.toFixed(0).padStart(6)} ns/invocation${ratio}`)
}
const added = median(samples.get('with keepalive-agent')) - base
const middyShare = median(samples.get('with an empty middleware')) - base
console.log(
  `\nkeepalive-agent adds ${added.toFixed(0)} ns per invocation, of which ${middyShare.toFixed(0)} ns is Middy's` +
    ' cost of any middleware;\nthe thaw path adds the last line when it runs. One TLS handshake it saves costs milliseconds.',
)
await resources.close()
