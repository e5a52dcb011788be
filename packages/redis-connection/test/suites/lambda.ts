import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import {
  callbackHandlersSupported,
  FaultProxy,
  type InvocationResult,
  LambdaEnvironment,
  RedisServer,
} from '@middy-downstream/testing'
import { fault, type IoredisVersion, stats, until } from '../helpers.js'

// Fixtures import '@middy-downstream/redis-connection', i.e. dist/: run `pnpm build` first.
const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/handler.mjs')

interface Report {
  passwordFetches: number
  events: Array<{ type: string; action?: string; reason?: string; ok?: boolean }>
}

/** The lifecycle under Lambda's rules: environments in child processes, frozen between invocations. */
export const lambdaSuite = (version: IoredisVersion): void => {
  const servers: RedisServer[] = []
  const environments: LambdaEnvironment[] = []

  const startServer = async (options: Parameters<typeof RedisServer.start>[0] = {}) => {
    const server = await RedisServer.start(options)
    servers.push(server)
    return server
  }
  const startEnvironment = async (
    url: string,
    {
      exportName = 'handler',
      timeoutMs = fault.timeoutMs as number,
      env = {} as Record<string, string>,
    } = {},
  ) => {
    const environment = await LambdaEnvironment.start({
      module: fixture,
      exportName,
      timeoutMs,
      env: { REDIS_URL: url, IOREDIS: version.env, MARGIN_MS: String(fault.marginMs), ...env },
    })
    environments.push(environment)
    return environment
  }
  /** A failure that came back from the handler inside the function timeout, not a Lambda timeout. */
  const expectFailedInside = (result: InvocationResult, timeoutMs: number, names: string[]) => {
    expect(result.ok).toBe(false)
    expect(result.timedOut).toBeUndefined()
    expect(names).toContain(result.error?.name)
    expect(result.durationMs).toBeLessThan(timeoutMs)
  }

  afterEach(async () => {
    await Promise.all(environments.splice(0).map((environment) => environment.close()))
  })
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.dispose()))
  })

  describe('warm and frozen', () => {
    let server: RedisServer
    let idleClosing: RedisServer
    beforeAll(async () => {
      ;[server, idleClosing] = await Promise.all([startServer(), startServer({ timeout: 1 })])
    })

    test('50 warm invocations of a frozen-between-invocations environment use one connection', async () => {
      const environment = await startEnvironment(server.url)
      const before = await stats(server)
      const results = []
      for (let i = 0; i < 50; i++) results.push(await environment.invoke({ key: 'fifty' }))
      const after = await stats(server)
      expect(results.every((r) => r.ok)).toBe(true)
      expect(new Set(results.map((r) => (r.value as { pid: number }).pid)).size).toBe(1)
      // One connection for the environment, one for the INFO that counts them.
      expect(after.total_connections_received - before.total_connections_received).toBe(2)
      expect(environment.frozen).toBe(true)
    })

    test('the server closes the idle connection (timeout 1) while the environment is frozen: the next invocation succeeds', async () => {
      const environment = await startEnvironment(idleClosing.url)
      expect(await environment.invoke({})).toMatchObject({ ok: true })
      // Frozen now; wait for the server to drop the connection (only redis-cli's own remains).
      await until(async () => (await idleClosing.info('connected_clients')) === 1)
      expect(await environment.invoke({})).toMatchObject({ ok: true })
      const { events } = await environment.call<Report>('report')
      // The FIN read on thaw marks the client broken before the handler runs: replaced, not retried.
      expect(events.filter((e) => e.type === 'close')).toMatchObject([
        { action: 'destroy', reason: 'broken' },
      ])
      expect(events.filter((e) => e.type === 'open')).toHaveLength(2)
    })

    // Callback-style handlers exist up to the Node.js 22 runtime (lambda-sim refuses them on 24).
    const onCallbackRuntimes = callbackHandlersSupported() ? test : () => {}
    onCallbackRuntimes(
      'a callback-style invocation is not kept alive by the kept client, nor by a replaced one',
      async () => {
        const managed = await startEnvironment(idleClosing.url, { exportName: 'callbackHandler' })
        const raw = await startEnvironment(idleClosing.url, { exportName: 'rawCallbackHandler' })
        // A module-scope ioredis client keeps the event loop busy: the invocation runs into its timeout.
        expect(await raw.invoke({})).toMatchObject({ ok: false, timedOut: true })
        expect(await managed.invoke({})).toMatchObject({ ok: true })
        expect(await managed.invoke({})).toMatchObject({ ok: true })
        await until(async () => (await idleClosing.info('connected_clients')) <= 2) // raw's client stays
        expect(await managed.invoke({})).toMatchObject({ ok: true })
      },
    )
  })

  describe('never hangs', () => {
    test('black-holed network: each invocation fails inside its remaining time, the first after recovery succeeds', async () => {
      const server = await startServer()
      const proxy = await FaultProxy.start({ port: server.port })
      try {
        const environment = await startEnvironment(`redis://127.0.0.1:${proxy.port}`)
        expect(await environment.invoke({})).toMatchObject({ ok: true })
        proxy.setMode('blackhole')
        for (let i = 0; i < 2; i++)
          expectFailedInside(await environment.invoke({}), fault.timeoutMs, ['DeadlineError'])
        proxy.setMode('pass')
        expect(await environment.invoke({})).toMatchObject({ ok: true })
      } finally {
        await proxy.close()
      }
    })

    test('server frozen with SIGSTOP: each invocation fails inside its remaining time, the first after the thaw succeeds', async () => {
      const server = await startServer()
      const environment = await startEnvironment(server.url)
      expect(await environment.invoke({})).toMatchObject({ ok: true })
      server.freeze()
      try {
        for (let i = 0; i < 2; i++)
          expectFailedInside(await environment.invoke({}), fault.timeoutMs, ['DeadlineError'])
      } finally {
        server.thaw()
      }
      expect(await environment.invoke({})).toMatchObject({ ok: true })
    })

    test('server stopped: each invocation fails fast with a ConnectError, the first after the restart succeeds', async () => {
      const server = await startServer()
      const environment = await startEnvironment(server.url, { timeoutMs: 2000 })
      expect(await environment.invoke({})).toMatchObject({ ok: true })
      await server.stop()
      for (let i = 0; i < 2; i++) {
        const result = await environment.invoke({})
        expectFailedInside(result, 2000, ['ConnectError'])
        expect(result.error).toMatchObject({ code: 'ECONNREFUSED' })
      }
      await server.start()
      expect(await environment.invoke({})).toMatchObject({ ok: true })
    })
  })

  test('requirepass with a rotating provider: the reconnect after a restart uses the new password', async () => {
    const server = await startServer({ requirepass: 'rotating-one-1111' })
    const environment = await startEnvironment(server.url, {
      env: { PASSWORD_PROVIDER: 'yes', REDIS_PASSWORD: 'rotating-one-1111' },
    })
    expect(await environment.invoke({})).toMatchObject({ ok: true })
    await server.setPassword('rotating-two-2222')
    await environment.call('setPassword', 'rotating-two-2222')
    await server.restart()
    expect(await environment.invoke({})).toMatchObject({ ok: true })
    const { passwordFetches, events } = await environment.call<Report>('report')
    expect(passwordFetches).toBe(2)
    expect(JSON.stringify(events)).not.toMatch(/rotating-(one|two)/)
  })
}
