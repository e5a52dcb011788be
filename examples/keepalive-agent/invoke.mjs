// Runs the example handler the way Lambda does (a child process frozen between invocations)
// against a local HTTPS stand-in for S3 that forgets connections idle for 1 s, with and without
// keepalive-agent, and prints what happened.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { LambdaEnvironment } from '@middy-downstream/lambda-sim'
import { HttpsTestServer } from '../../packages/keepalive-agent/test/support/https-test-server.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const invocations = Number(process.argv[2] ?? 5)
const keys = Array.from({ length: 100 }, (_, i) => `object-${i}`)

// 'silent': like an upstream whose FIN never reached the frozen environment, the next request on
// an idle-closed connection is reset.
const server = await HttpsTestServer.start({ idleTimeoutMs: 1000, idleClose: 'silent' })
for (const key of keys) server.objects.set(`bucket/${key}`, Buffer.from(`content of ${key}`))
const event = { bucket: 'bucket', keys, statusUrl: `${server.url}/json` }

console.log(
  `${invocations} invocations, each reading ${keys.length} objects at once and fetching a status;` +
    '\nthe environment stays frozen until the server has dropped its idle connections.\n',
)
for (const exportName of ['unmanaged', 'handler']) {
  server.resetCounters()
  const environment = await LambdaEnvironment.start({
    module: path.join(here, 'handler.mjs'),
    exportName,
    timeoutMs: 15_000,
    env: {
      S3_ENDPOINT: server.url,
      NODE_EXTRA_CA_CERTS: server.caPath,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  })
  const totals = { objectsRead: 0, sdkAttempts: 0, statusFailed: 0, failures: 0 }
  for (let i = 0; i < invocations; i++) {
    const result = await environment.invoke(event)
    if (!result.ok) throw new Error(`${exportName}: ${result.error?.message}`)
    totals.objectsRead += result.value.objectsRead
    totals.sdkAttempts += result.value.sdkAttempts
    totals.statusFailed += result.value.status === 'ok' ? 0 : 1
    totals.failures += result.value.failures.length
    await server.waitFor((s) => s.live === 0)
  }
  const retries = exportName === 'handler' ? (await environment.call('stats')).retries : 0
  await environment.close()
  console.log(
    `${exportName.padEnd(10)} objects read ${totals.objectsRead}/${invocations * keys.length}, ` +
      `SDK attempts ${totals.sdkAttempts}, failed fetches ${totals.statusFailed}, ` +
      `errors seen by the handler ${totals.failures}, resent by keepalive-agent ${retries}, ` +
      `most connections at once ${server.peakOpen}, TLS handshakes ${server.handshakes}`,
  )
}
await server.close()
console.log(
  '\nWithout keepalive-agent the SDK queues the fan-out behind 50 sockets and, after each freeze, sends' +
    '\nrequests on connections the server has dropped: the SDK resends them (more attempts), fetch fails.' +
    '\nWith it, all requests go out at once and a reset reused socket is resent at once on a new one.',
)
