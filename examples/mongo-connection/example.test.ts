import path from 'node:path'
import { afterAll, afterEach, beforeAll, expect, test } from '@jest/globals'
import { type FaultMode, FaultProxy, LambdaEnvironment } from '@middy-downstream/lambda-sim'
import { MongoStandIn } from '../../packages/testing/src/index.js'

const module = path.resolve('examples/mongo-connection/handler.mjs')
const timeoutMs = 2_000
let standIn: MongoStandIn
beforeAll(async () => {
  standIn = await MongoStandIn.start({ users: { shop: 'example-Pa55word' } })
})
afterAll(() => standIn.stop())

const opened: { close(): Promise<void> }[] = []
afterEach(() => Promise.all(opened.splice(0).map((resource) => resource.close())))

/** One environment behind its own proxy: the first invocation warms it, the fault hits while frozen. */
const afterFault = async (exportName: string, fault: (proxy: FaultProxy) => void) => {
  const proxy = await FaultProxy.start({ port: standIn.port })
  opened.push(proxy)
  const environment = await LambdaEnvironment.start({
    module,
    exportName,
    timeoutMs,
    env: {
      MONGO_URL: `mongodb://shop:example-Pa55word@127.0.0.1:${proxy.port}/?directConnection=true`,
      VALIDATE_AFTER_IDLE_MS: '0',
    },
  })
  opened.push(environment)
  expect(await environment.invoke({ customer: exportName })).toMatchObject({ ok: true })
  fault(proxy)
  return environment.invoke({ customer: exportName })
}

const dropExisting = (proxy: FaultProxy) => {
  for (const connection of proxy.openConnections) proxy.setConnectionMode(connection.id, 'blackhole')
}
const everything = (mode: FaultMode) => (proxy: FaultProxy) => proxy.setMode(mode)

test('warm invocations share one client and a small pool', async () => {
  const accepted = standIn.connectionsAccepted
  const environment = await LambdaEnvironment.start({
    module,
    timeoutMs,
    env: { MONGO_URL: standIn.url({ username: 'shop', password: 'example-Pa55word' }) },
  })
  opened.push(environment)
  for (let i = 1; i <= 20; i++) {
    expect(await environment.invoke({ customer: 'grace' })).toMatchObject({
      ok: true,
      value: { statusCode: 200, body: `grace has ${i} order(s)` },
    })
  }
  expect((await environment.call<string[]>('lifecycle')).filter((e) => e === 'open')).toHaveLength(1)
  expect(standIn.connectionsAccepted - accepted).toBeLessThanOrEqual(3)
})

test('connections dropped during a freeze: the unmanaged handler runs out of time, the managed one succeeds', async () => {
  expect(await afterFault('unmanaged', dropExisting)).toMatchObject({
    ok: false,
    error: { name: 'TimeoutError' },
  })
  const managed = await afterFault('handler', dropExisting)
  expect(managed).toMatchObject({ ok: true, value: { body: 'handler has 2 order(s)' } })
  expect(managed.durationMs).toBeLessThan(timeoutMs)
})

test('server unreachable: the managed handler fails with a DeadlineError before the timeout', async () => {
  const managed = await afterFault('handler', everything('blackhole'))
  expect(managed).toMatchObject({ ok: false, error: { name: 'DeadlineError' } })
  expect(managed.timedOut).toBeUndefined()
  expect(managed.durationMs).toBeLessThan(timeoutMs)
})
