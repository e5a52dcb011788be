// Handlers in simulated Lambda environments: child processes that load the handler module once
// and are frozen (SIGSTOP) between invocations. The fixtures import the built package (dist/).
import path from 'node:path'
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { type InvocationResult, LambdaEnvironment } from '@middy-downstream/testing'
import type { KeepaliveStats } from '../src/index.js'
import { HttpsTestServer } from './support/https-test-server.mjs'

const fixture = (name: string) => path.resolve('packages/keepalive-agent/test/fixtures', name)
const resetCodes = ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']

let server: HttpsTestServer
const environments: LambdaEnvironment[] = []
beforeAll(async () => {
  // Closes a keep-alive connection after 1 s idle, without announcing it, as many upstreams do.
  // 'silent': the client learns of it only when it sends the next request there, which is reset.
  // That is what a real Lambda environment sees (its whole microVM is paused, so the FIN is not
  // taken in while frozen); a SIGSTOPped process still has a running kernel that takes the FIN in,
  // and whether Node reads it before the next request then depends on event order after SIGCONT
  // (on Node 20 it often does not, on Node 22 it does).
  server = await HttpsTestServer.start({ idleTimeoutMs: 1000, idleClose: 'silent' })
  server.objects.set('bucket/object', Buffer.from('hello'))
})
afterAll(async () => {
  await Promise.all(environments.map((e) => e.close()))
  await server.close()
})

const start = async (name: string, options: object = {}) => {
  const environment = await LambdaEnvironment.start({
    module: fixture(name),
    timeoutMs: 10_000,
    env: {
      KEEPALIVE_TEST_ENDPOINT: server.url,
      KEEPALIVE_OPTIONS: JSON.stringify(options),
      NODE_EXTRA_CA_CERTS: server.caPath,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  })
  environments.push(environment)
  return environment
}

interface Outcome {
  sdk: string
  fetch: string
}
const outcomeOf = (result: InvocationResult): Outcome =>
  result.ok
    ? (result.value as Outcome)
    : { sdk: `invocation failed: ${result.error?.message}`, fetch: 'invocation failed' }

test('20 freeze/thaw cycles while the server closes idle sockets: no reset reaches the handler with the middleware, several without', async () => {
  const variants = {
    // The SDK's default request handler and Node's fetch.
    without: await start('unmanaged-handler.mjs'),
    // keepalive-agent with its defaults: a 1 s freeze is shorter than thawThresholdMs (4 s), so
    // stale sockets are reused, and the retry on a new socket is what keeps the handler clean.
    withDefaults: await start('managed-handler.mjs'),
    // A threshold below the freeze: idle sockets are dropped before the handler runs.
    withShortThreshold: await start('managed-handler.mjs', { thawThresholdMs: 500 }),
  }
  const names = Object.keys(variants) as (keyof typeof variants)[]
  const outcomes = Object.fromEntries(names.map((name) => [name, [] as Outcome[]])) as Record<
    keyof typeof variants,
    Outcome[]
  >
  for (let cycle = 0; cycle < 20; cycle++) {
    // Each environment is thawed for its invocation and frozen again as soon as it has answered.
    const results = await Promise.all(names.map((name) => variants[name].invoke({ cycle })))
    results.forEach((result, i) => {
      outcomes[names[i]!].push(outcomeOf(result))
    })
    // The freeze lasts until the server has closed every connection for idleness (1 s).
    await server.waitFor((s) => s.live === 0, { what: 'every idle connection closed by the server' })
  }

  const clean = Array(20).fill({ sdk: 'ok', fetch: 'ok' })
  expect(outcomes.withDefaults).toEqual(clean)
  expect(outcomes.withShortThreshold).toEqual(clean)

  const withoutCodes = outcomes.without.flatMap((o) => [o.sdk, o.fetch])
  expect(withoutCodes.every((code) => code === 'ok' || resetCodes.includes(code))).toBe(true)
  expect(withoutCodes.filter((code) => resetCodes.includes(code)).length).toBeGreaterThan(0)

  // With the defaults, stale sockets did reach requests, and each was sent again on a new one.
  const defaultsStats = await variants.withDefaults.call<KeepaliveStats>('stats')
  expect(defaultsStats.retries).toBeGreaterThan(0)
  // With the short threshold no stale socket was ever used: nothing needed a retry.
  const shortStats = await variants.withShortThreshold.call<KeepaliveStats>('stats')
  expect(shortStats.retries).toBe(0)
  expect(shortStats.thaws).toBeGreaterThanOrEqual(19)
  expect(shortStats.idleSocketsDropped).toBeGreaterThan(0)
})

test("installGlobal: Node's fetch without a dispatcher and https.get without an agent use the shared pool", async () => {
  const environment = await start('global-handler.mjs')
  for (let i = 0; i < 3; i++) {
    expect(await environment.invoke({})).toMatchObject({
      ok: true,
      value: { body: { ok: true, method: 'GET' }, fetchConnections: 1, httpsOnSharedAgent: true },
    })
  }
})
