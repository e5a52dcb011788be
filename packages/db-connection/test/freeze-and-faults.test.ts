import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { FaultProxy, MariaDbServer } from '@middy-downstream/testing'
import { environments, eventually, threadsOf } from './support.js'

const envs = environments()
afterEach(() => envs.closeAll())

type Stats = { counters: Record<string, number>; events: { type: string; reason?: string; ok?: boolean }[] }

describe('healthy after a freeze', () => {
  let server: MariaDbServer
  beforeAll(async () => {
    server = await MariaDbServer.start({ waitTimeout: 2 })
  })
  afterAll(() => server.dispose())

  test('a connection killed while the environment is frozen is replaced silently', async () => {
    const environment = await envs.start(server)
    const first = await environment.invoke({})
    expect(first.ok).toBe(true)
    const { connectionId } = first.value as { connectionId: number }
    await server.sql('KILL CONNECTION ?', [connectionId])
    const second = await environment.invoke({})
    expect(second).toMatchObject({ ok: true })
    expect((second.value as { connectionId: number }).connectionId).not.toBe(connectionId)
    const stats = await environment.call<Stats>('stats')
    expect(stats.counters).toMatchObject({ opens: 2, errors: 0 })
    expect(stats.events).toContainEqual(expect.objectContaining({ type: 'close', reason: 'broken' }))
  })

  test('a connection closed by wait_timeout during the freeze is replaced silently', async () => {
    const environment = await envs.start(server)
    const first = await environment.invoke({})
    const { connectionId } = first.value as { connectionId: number }
    await eventually(
      async () => !(await threadsOf(server, 'root')).some((t) => t.id === connectionId),
      10_000,
      'wait_timeout to close the connection',
    )
    expect(await environment.invoke({})).toMatchObject({ ok: true })
    expect((await environment.call<Stats>('stats')).counters.errors).toBe(0)
  })

  test('a server restart between invocations is invisible to the handler', async () => {
    const environment = await envs.start(server)
    expect(await environment.invoke({})).toMatchObject({ ok: true })
    await server.restart()
    expect(await environment.invoke({})).toMatchObject({ ok: true })
    expect((await environment.call<Stats>('stats')).counters).toMatchObject({ opens: 2, errors: 0 })
  })

  test('after a long freeze the connection is pinged before use, and a dead one replaced', async () => {
    const proxy = await FaultProxy.start({ port: server.port })
    try {
      const environment = await envs.start(proxy, { validateAfterIdleMs: 0, validateTimeoutMs: 300 })
      expect(await environment.invoke({})).toMatchObject({ ok: true })
      // The NAT dropped the mapping while frozen: the old socket is silent, new ones work.
      for (const connection of proxy.openConnections) proxy.setConnectionMode(connection.id, 'blackhole')
      const result = await environment.invoke({})
      expect(result).toMatchObject({ ok: true })
      const stats = await environment.call<Stats>('stats')
      expect(stats.events).toContainEqual(expect.objectContaining({ type: 'validate', ok: false }))
      expect(stats.counters).toMatchObject({ opens: 2, errors: 0 })
    } finally {
      await proxy.close()
    }
  })
})

describe('a black-holed network', () => {
  let server: MariaDbServer
  let proxy: FaultProxy
  beforeAll(async () => {
    server = await MariaDbServer.start()
    proxy = await FaultProxy.start({ port: server.port })
  })
  afterAll(async () => {
    await proxy.close()
    await server.dispose()
  })

  test('fails with a timeout error well inside the remaining time, and the next invocation after healing succeeds', async () => {
    const timeoutMs = 2500
    const environment = await envs.start(proxy, {}, { timeoutMs })
    expect(await environment.invoke({})).toMatchObject({ ok: true })
    proxy.setMode('blackhole')
    const lost = await environment.invoke({})
    expect(lost.ok).toBe(false)
    expect(lost.timedOut).toBeUndefined() // an error from the middleware, not Lambda's timeout
    expect(lost.error).toMatchObject({ name: 'DeadlineError', code: 'PROTOCOL_SEQUENCE_TIMEOUT' })
    expect(lost.durationMs).toBeLessThan(timeoutMs)

    const connecting = await environment.invoke({})
    expect(connecting.ok).toBe(false)
    expect(connecting.timedOut).toBeUndefined()
    expect(['DeadlineError', 'ConnectError']).toContain(connecting.error?.name)
    expect(connecting.durationMs).toBeLessThan(timeoutMs)

    proxy.setMode('pass')
    expect(await environment.invoke({})).toMatchObject({ ok: true })
  })
})
