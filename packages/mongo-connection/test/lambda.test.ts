// The middleware in simulated Lambda environments: child processes that import the built package
// (run `pnpm build` first) and are frozen with SIGSTOP between invocations.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import {
  callbackHandlersSupported,
  FaultProxy,
  type InvocationResult,
  LambdaEnvironment,
} from '@middy-downstream/testing'
import { destructive, drivers, startServer, type TestServer, uniqueDb } from './server.js'

const module = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/handler.mjs')
const driverMajor = (name: string) => (name.endsWith('6') ? '6' : '7')

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.stop())

const opened: { close(): Promise<void> }[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((resource) => resource.close()))
})

const start = async (
  driver: string,
  options: { url?: string; exportName?: string; timeoutMs: number; middleware?: Record<string, unknown> },
) => {
  const environment = await LambdaEnvironment.start({
    module,
    exportName: options.exportName ?? 'handler',
    timeoutMs: options.timeoutMs,
    env: {
      MONGO_URL: options.url ?? server.url(),
      MONGO_DB: uniqueDb(),
      MONGO_DRIVER: driverMajor(driver),
      MONGO_OPTIONS: JSON.stringify(options.middleware ?? {}),
    },
  })
  opened.push(environment)
  return environment
}

/** The stand-in behind a fault proxy: the only way to drop packets silently. */
const proxied = async () => {
  const proxy = await FaultProxy.start({ port: server.standIn!.port })
  opened.push(proxy)
  return { proxy, url: server.url().replace(`:${server.standIn!.port}/`, `:${proxy.port}/`) }
}

const report = (environment: LambdaEnvironment) => environment.call<{ types: string[] }>('report')

/** Answered by the handler (not by the Lambda timeout) with time to spare. */
const answeredInTime = (result: InvocationResult, timeoutMs: number) => {
  expect(result.timedOut).toBeUndefined()
  expect(result.durationMs).toBeLessThan(timeoutMs)
}

if (destructive) {
  describe.each(drivers)('%s, faults while the environment is frozen (stand-in only)', (driver) => {
    test('sockets black-holed, idle past validateAfterIdleMs: the next invocation succeeds on a new client', async () => {
      const { proxy, url } = await proxied()
      const timeoutMs = 5_000
      const environment = await start(driver, { url, timeoutMs, middleware: { validateAfterIdleMs: 0 } })
      expect(await environment.invoke({ n: 1 })).toMatchObject({ ok: true, value: { n: 1 } })
      expect(environment.frozen).toBe(true)
      // The NAT forgot the connections: they go silent, new ones still work.
      for (const connection of proxy.openConnections) proxy.setConnectionMode(connection.id, 'blackhole')
      const second = await environment.invoke({ n: 2 })
      expect(second).toMatchObject({ ok: true, value: { n: 2 } })
      // Bound: the validation ping's 1000 ms, then a connect; far inside the remaining time.
      answeredInTime(second, timeoutMs)
      expect((await report(environment)).types).toEqual([
        'open',
        'release:keep',
        'validate',
        'close:destroy',
        'open',
        'release:keep',
      ])
    })

    test('everything black-holed: the next invocation fails with a DeadlineError inside its remaining time, the one after succeeds', async () => {
      const { proxy, url } = await proxied()
      const timeoutMs = 2_000
      const environment = await start(driver, { url, timeoutMs })
      expect(await environment.invoke({ n: 1 })).toMatchObject({ ok: true })
      proxy.setMode('blackhole')
      const stuck = await environment.invoke({ n: 2 })
      expect(stuck).toMatchObject({ ok: false, error: { name: 'DeadlineError' } })
      expect(stuck.error?.message).toContain("before the invocation's timeout")
      // The deadline guard fires marginMs (500) before the timeout: never at the Lambda timeout.
      answeredInTime(stuck, timeoutMs)
      proxy.setMode('pass')
      expect(await environment.invoke({ n: 3 })).toMatchObject({ ok: true, value: { n: 3 } })
      expect((await report(environment)).types).toEqual([
        'open',
        'release:keep',
        'reuse',
        'close:destroy',
        'error',
        'release:keep',
        'open',
        'release:keep',
      ])
    })

    test('stand-in restarted between invocations: the next invocation succeeds', async () => {
      const timeoutMs = 5_000
      const environment = await start(driver, { timeoutMs, middleware: { validateAfterIdleMs: 0 } })
      expect(await environment.invoke({ n: 1 })).toMatchObject({ ok: true })
      await server.standIn!.restart()
      const next = await environment.invoke({ n: 2 })
      // The handler writes first: a write is not retried by the driver on a standalone server,
      // so this is the validation ping's work (the client was refreshed or replaced).
      expect(next).toMatchObject({ ok: true, value: { n: 2 } })
      answeredInTime(next, timeoutMs)
    })
  })
}

// Callback-style handlers exist up to the Node.js 22 runtime; on Node.js 24 lambda-sim refuses
// them at init, as Lambda does (lambda-sim's own tests check that).
const describeOnCallbackRuntimes = callbackHandlersSupported() ? describe.each(drivers) : () => {}
describeOnCallbackRuntimes('%s, callback-style handlers', (driver: string) => {
  test('a kept client holds a callback-style invocation until its timeout unless the event loop is released', async () => {
    const held = await start(driver, { exportName: 'callbackHandler', timeoutMs: 1_000 })
    expect(await held.invoke({ n: 1 })).toMatchObject({ ok: false, timedOut: true })

    const released = await start(driver, { exportName: 'releasedCallbackHandler', timeoutMs: 3_000 })
    for (let n = 0; n < 3; n++) {
      expect(await released.invoke({ n })).toMatchObject({ ok: true, value: { n } })
    }
  })

  test("release: 'close' leaves nothing open: a callback-style invocation answers without releasing the event loop", async () => {
    const environment = await start(driver, {
      exportName: 'callbackHandler',
      timeoutMs: 3_000,
      middleware: { release: 'close' },
    })
    for (let n = 0; n < 3; n++) {
      expect(await environment.invoke({ n })).toMatchObject({ ok: true, value: { n } })
    }
  })
})
