import path from 'node:path'
import { afterEach, describe, expect, test } from '@jest/globals'
import { callbackHandlersSupported, LambdaEnvironment } from '../src/index.js'
import { processState } from './process-state.js'

const fixture = (name: string) => path.resolve('packages/lambda-sim/test/fixtures', name)
const environments: LambdaEnvironment[] = []
const start = async (
  name: string,
  options: { timeoutMs?: number; freezeBetweenInvocations?: boolean } = {},
) => {
  const environment = await LambdaEnvironment.start({ module: fixture(name), ...options })
  environments.push(environment)
  return environment
}
afterEach(async () => {
  await Promise.all(environments.splice(0).map((e) => e.close()))
})

describe('LambdaEnvironment', () => {
  test('keeps module scope across invocations and freezes the process between them', async () => {
    const environment = await start('counter-handler.mjs')
    expect(await environment.invoke({})).toMatchObject({ ok: true, value: { invocations: 1 } })
    expect(environment.frozen).toBe(true)
    expect(await processState(environment.pid)).toBe('T')
    const second = await environment.invoke({})
    expect(second).toMatchObject({ ok: true, value: { invocations: 2, pid: environment.pid } })
  })

  test('a frozen environment runs no timers', async () => {
    const environment = await start('counter-handler.mjs')
    await environment.invoke({})
    const frozenAt = Date.now()
    // Wait on the host side (the environment is stopped) until time has visibly passed.
    while (Date.now() - frozenAt < 300) await new Promise((r) => setTimeout(r, 50))
    const frozenUntil = Date.now()
    // The overdue interval fires as soon as `call` thaws the process, possibly within the same
    // millisecond as `frozenUntil`: the window ends just before it.
    expect(await environment.call<number>('ticksBetween', frozenAt + 30, frozenUntil - 1)).toBe(0)
    const thawedAt = Date.now()
    await environment.invoke({ sleepMs: 200 })
    expect(await environment.call<number>('ticksBetween', thawedAt, Date.now())).toBeGreaterThan(2)
  })

  test('reports errors with their code, and timeouts', async () => {
    const environment = await start('counter-handler.mjs', { timeoutMs: 200 })
    expect(await environment.invoke({ fail: true })).toMatchObject({
      ok: false,
      error: { message: 'asked to fail', code: 'E_ASKED' },
    })
    expect(await environment.invoke({ sleepMs: 1000 })).toMatchObject({ ok: false, timedOut: true })
  })

  // Each CI leg checks the runtime of its own Node.js: callbacks up to 22, refused on 24.
  if (callbackHandlersSupported()) {
    test('a callback-style handler waits for the empty event loop unless released', async () => {
      const environment = await start('callback-handler.mjs', { timeoutMs: 400 })
      expect(await environment.invoke({})).toMatchObject({ ok: false, timedOut: true })
      expect(await environment.invoke({ cleanUp: true })).toMatchObject({ ok: true, value: { done: true } })
      expect(await environment.invoke({ release: true })).toMatchObject({ ok: true, value: { done: true } })
    })
  } else {
    test('on Node.js 24 a callback-style handler is refused at init, as the nodejs24.x runtime refuses it', async () => {
      await expect(start('callback-handler.mjs')).rejects.toThrow(
        /exited during init \(code 1\): Error: handler is a callback-style handler \(it takes 3 parameters\): the Node\.js 24 runtime supports only async handlers/,
      )
    })
  }

  test('serves concurrent invocations and freezes only when none is in flight', async () => {
    const environment = await start('counter-handler.mjs')
    const both = Promise.all([environment.invoke({ sleepMs: 100 }), environment.invoke({ sleepMs: 100 })])
    expect(environment.inFlight).toBe(2)
    const results = await both
    expect(results.map((r) => r.ok)).toEqual([true, true])
    expect(environment.frozen).toBe(true)
  })

  test('an abandoned environment stays frozen and refuses work', async () => {
    const environment = await start('counter-handler.mjs')
    await environment.invoke({})
    environment.abandon()
    await expect(environment.invoke({})).rejects.toThrow('abandoned')
    expect(await processState(environment.pid)).toBe('T')
  })

  test('resolves the Middy of the test leg', async () => {
    const environment = await start('counter-handler.mjs')
    expect(await environment.call('middyMajor')).toBe(process.env.MIDDY_MAJOR === '7' ? 7 : 6)
  })
})
