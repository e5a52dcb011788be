import path from 'node:path'
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { LambdaEnvironment } from '@middy-downstream/lambda-sim'
import { HttpsTestServer } from '../../packages/keepalive-agent/test/support/https-test-server.mjs'

const module = path.resolve('examples/keepalive-agent/handler.mjs')
const keys = Array.from({ length: 60 }, (_, i) => `object-${i}`)

interface Summary {
  objectsRead: number
  sdkAttempts: number
  status: string
  failures: string[]
}

let server: HttpsTestServer
const environments: LambdaEnvironment[] = []
beforeAll(async () => {
  // Forgets connections idle for 1 s: the next request on one is reset.
  server = await HttpsTestServer.start({ idleTimeoutMs: 1000, idleClose: 'silent' })
  for (const key of keys) server.objects.set(`bucket/${key}`, Buffer.from(key))
})
afterAll(async () => {
  await Promise.all(environments.map((e) => e.close()))
  await server.close()
})

const start = async (exportName: string) => {
  const environment = await LambdaEnvironment.start({
    module,
    exportName,
    timeoutMs: 15_000,
    env: {
      S3_ENDPOINT: server.url,
      NODE_EXTRA_CA_CERTS: server.caPath,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  })
  environments.push(environment)
  return environment
}

test('after each freeze the handler reads every object at once, with no error and no SDK retry; without the middleware it does not', async () => {
  const managed = await start('handler')
  const unmanaged = await start('unmanaged')
  const event = { bucket: 'bucket', keys, statusUrl: `${server.url}/json` }
  const summaries: { managed: Summary[]; unmanaged: Summary[] } = { managed: [], unmanaged: [] }
  for (let cycle = 0; cycle < 3; cycle++) {
    const [withIt, withoutIt] = await Promise.all([managed.invoke(event), unmanaged.invoke(event)])
    summaries.managed.push(withIt.value as Summary)
    summaries.unmanaged.push(withoutIt.value as Summary)
    // Frozen until the server has forgotten every idle connection.
    await server.waitFor((s) => s.live === 0)
  }
  expect(summaries.managed).toEqual(
    Array(3).fill({ objectsRead: keys.length, sdkAttempts: keys.length, status: 'ok', failures: [] }),
  )
  // From the second invocation on, the unmanaged handler meets connections the server dropped.
  const trouble = summaries.unmanaged
    .slice(1)
    .reduce((sum, s) => sum + s.failures.length + (s.sdkAttempts - s.objectsRead), 0)
  expect(trouble).toBeGreaterThan(0)
  // The stale connections were reused by the handler too, and keepalive-agent resent those requests.
  expect((await managed.call<{ retries: number }>('stats')).retries).toBeGreaterThan(0)
})
