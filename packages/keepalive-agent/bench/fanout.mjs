// Fan-out of 200 concurrent S3 GetObject calls to a local HTTPS server (in its own process) that
// answers each after a service time: wall time and TLS handshakes with keepalive-agent's request
// handler against the SDK's default one, same run, as ratios. Cold: the first fan-out of a new
// client (every connection is opened); warm: the next one on the same client. A first round warms
// the JIT up and is not counted; rounds alternate the order; medians are reported.
// Run after `pnpm build`: node packages/keepalive-agent/bench/fanout.mjs [rounds] [serviceMs,...]
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { createHttpResources } from '@middy-downstream/keepalive-agent'
import { NodeHttpHandler } from '@smithy/node-http-handler'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
const rounds = Number(process.argv[2] ?? 5)
const serviceTimes = (process.argv[3] ?? '20,100,250').split(',').map(Number)
const calls = 200

const startServer = async (latencyMs) => {
  const child = fork(new URL('./server-process.mjs', import.meta.url), [String(latencyMs)])
  const [{ url, ca }] = await once(child, 'message')
  const counters = async () => {
    child.send('counters')
    const [message] = await once(child, 'message')
    return message
  }
  return { url, ca, counters, close: () => child.send('close') }
}

const measure = async (latencyMs) => {
  const server = await startServer(latencyMs)
  const clientOn = (requestHandler) =>
    new S3Client({
      endpoint: server.url,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
      requestHandler,
    })
  const fanOut = async (client) => {
    const { handshakes } = await server.counters()
    const started = performance.now()
    await Promise.all(
      Array.from({ length: calls }, async () => {
        const response = await client.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'object' }))
        await response.Body.transformToString()
      }),
    )
    const ms = performance.now() - started
    return { ms, handshakes: (await server.counters()).handshakes - handshakes }
  }
  const variants = {
    "SDK's default handler": () => {
      const requestHandler = new NodeHttpHandler({ httpsAgent: { ca: server.ca } })
      return { client: clientOn(requestHandler), close: async () => requestHandler.destroy() }
    },
    'keepalive-agent': () => {
      const resources = createHttpResources({ tls: { ca: server.ca } })
      return { client: clientOn(resources.requestHandler), close: () => resources.close() }
    },
  }
  const names = Object.keys(variants)
  const results = Object.fromEntries(names.map((name) => [name, { cold: [], warm: [] }]))
  for (let round = -1; round < rounds; round++) {
    for (const name of round % 2 ? [...names].reverse() : names) {
      const { client, close } = variants[name]()
      const cold = await fanOut(client)
      const warm = await fanOut(client)
      if (round >= 0) {
        results[name].cold.push(cold)
        results[name].warm.push(warm)
      }
      client.destroy()
      await close()
      // Between variants, until the server has seen every connection of this one close.
      while ((await server.counters()).open > 0) await new Promise((resolve) => setImmediate(resolve))
    }
  }
  server.close()
  return results
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const summary = (list) => ({
  ms: median(list.map((r) => r.ms)),
  handshakes: median(list.map((r) => r.handshakes)),
})

console.log(`Node.js ${process.version}: ${calls} concurrent GetObject calls, median of ${rounds} rounds`)
for (const latencyMs of serviceTimes) {
  const results = await measure(latencyMs)
  const [baseline, managed] = Object.keys(results)
  console.log(`\nservice time ${latencyMs} ms`)
  for (const phase of ['cold', 'warm']) {
    const a = summary(results[baseline][phase])
    const b = summary(results[managed][phase])
    const handshakeRatio = a.handshakes ? `${(b.handshakes / a.handshakes).toFixed(2)}x` : 'none either way'
    console.log(
      `  ${phase}: default ${a.ms.toFixed(0)} ms / ${a.handshakes} handshakes, keepalive-agent ${b.ms.toFixed(0)} ms / ${b.handshakes} handshakes;` +
        ` ratio: wall time ${(b.ms / a.ms).toFixed(2)}x, handshakes ${handshakeRatio}`,
    )
  }
}
console.log(
  '\nThe default handler queues behind 50 sockets: its wall time grows with the service time in waves of 50.' +
    '\nkeepalive-agent sends all 200 at once; a cold fan-out pays one TLS handshake per extra socket first.',
)
