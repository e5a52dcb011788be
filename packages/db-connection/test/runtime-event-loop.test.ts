// Under the real Node.js runtime (aws-lambda-ric) nothing of the runtime's keeps a classic
// environment's event loop alive while a handler runs, and lambda-sim's classic environment now
// unreferences its channel the same way. Every wait of ours that an invocation awaits (a capacity
// read at release, a ping after idle, a reset, a graceful close, a retry's backoff) must keep the
// loop alive itself, or the process exits mid-invocation (EnvironmentExited; Runtime.ExitError on
// Lambda) while our idle sockets stay unreferenced.
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { FaultProxy, MariaDbServer } from '@middy-downstream/testing'
import { environments } from './support.js'

let server: MariaDbServer
const envs = environments()
beforeAll(async () => {
  server = await MariaDbServer.start()
})
afterAll(async () => {
  await envs.closeAll()
  await server.dispose()
})

test('release policy auto: the capacity read at release', async () => {
  const environment = await envs.start(server, { release: 'auto' })
  expect(await environment.invoke({})).toMatchObject({ ok: true })
  expect(await environment.invoke({})).toMatchObject({ ok: true })
})

test('a ping before reuse (validateAfterIdleMs 0)', async () => {
  const environment = await envs.start(server, { release: 'keep', validateAfterIdleMs: 0 })
  expect(await environment.invoke({})).toMatchObject({ ok: true })
  expect(await environment.invoke({})).toMatchObject({ ok: true })
})

test('a reset after a throwing handler', async () => {
  const environment = await envs.start(server, { release: 'keep' })
  expect(await environment.invoke({ fail: true })).toMatchObject({
    ok: false,
    error: { message: 'handler failed' },
  })
  expect(await environment.invoke({})).toMatchObject({ ok: true })
})

test('a graceful close (release policy close)', async () => {
  const environment = await envs.start(server, { release: 'close' })
  expect(await environment.invoke({})).toMatchObject({ ok: true })
  expect(await environment.invoke({})).toMatchObject({ ok: true })
})

test("connect retries' backoff: the invocation fails with our error, the process lives", async () => {
  const proxy = await FaultProxy.start({ port: server.port })
  try {
    proxy.setMode('reset')
    const environment = await envs.start(proxy, { release: 'keep' }, { timeoutMs: 1500 })
    const result = await environment.invoke({})
    expect(result.ok).toBe(false)
    expect(result.error?.name).not.toBe('EnvironmentExited')
    expect(environment.alive).toBe(true)
  } finally {
    await proxy.close()
  }
})
