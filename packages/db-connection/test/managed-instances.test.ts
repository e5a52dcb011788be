// Lambda Managed Instances as the Node.js runtime runs them: worker threads, each with its own
// copy of the handler module (and of the module-scope pool), and libuv's 4 threadpool threads.
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { fakeContext, MariaDbServer } from '@middy-downstream/testing'
import { createDbConnection, DeadlineError } from '../src/index.js'
import { createAppUser, environments, threadsOf } from './support.js'

const envs = environments()
afterEach(() => envs.closeAll())

const user = 'mi'
const password = 'mi-password'

/** Runs `count` invocations at once, each holding its connection for a while. */
const burst = async (environment: Awaited<ReturnType<typeof envs.start>>, count: number) =>
  Promise.all(Array.from({ length: count }, () => environment.invoke({ pauseMs: 300 })))

describe('Managed Instances: connections per execution environment', () => {
  let server: MariaDbServer
  beforeAll(async () => {
    server = await MariaDbServer.start()
    await createAppUser(server, user, password)
  })
  afterAll(() => server.dispose())

  test('maxConnectionsPerEnvironment holds across workers (concurrency 8 over 2 workers)', async () => {
    const environment = await envs.start(
      server,
      { maxConnectionsPerEnvironment: 4, release: 'keep' },
      { user, password, managedInstances: { maxConcurrency: 8, workers: 2 } },
    )
    const results = await burst(environment, 8)
    expect(results.filter((r) => !r.ok)).toEqual([])
    const ids = new Set(results.map((r) => (r.value as { connectionId: number }).connectionId))
    expect(ids.size).toBeLessThanOrEqual(4)
    expect((await threadsOf(server, user)).length).toBeLessThanOrEqual(4)
  })

  test('the default budget never exceeds the concurrency (16 over 8 workers)', async () => {
    const environment = await envs.start(
      server,
      { release: 'keep' },
      { user, password, managedInstances: { maxConcurrency: 16, workers: 8 } },
    )
    const results = await burst(environment, 16)
    expect(results.filter((r) => !r.ok)).toEqual([])
    // Default: min(concurrency 16, max(4, 8 workers)) = 8, one per worker.
    const ids = new Set(results.map((r) => (r.value as { connectionId: number }).connectionId))
    expect(ids.size).toBeLessThanOrEqual(8)
    expect((await threadsOf(server, user)).length).toBeLessThanOrEqual(8)
  })
})

describe('Managed Instances: name resolution without the threadpool', () => {
  let server: MariaDbServer
  beforeAll(async () => {
    server = await MariaDbServer.start()
  })
  afterAll(() => server.dispose())

  test("host 'localhost' with 8 workers waiting for events: no invocation fails", async () => {
    // Each worker with room for another event holds a threadpool thread: getaddrinfo would wait.
    const environment = await envs.start(
      server,
      { release: 'keep' },
      { host: 'localhost', timeoutMs: 3000, managedInstances: { maxConcurrency: 64, workers: 8 } },
    )
    const results = await Promise.all(Array.from({ length: 8 }, () => environment.invoke({})))
    expect(results.filter((r) => !r.ok).map((r) => r.error)).toEqual([])
  })
})

describe('Managed Instances: our own deadline, since the platform enforces none', () => {
  let server: MariaDbServer
  beforeAll(async () => {
    server = await MariaDbServer.start()
  })
  afterAll(() => server.dispose())

  test('a statement still ends by the remaining time', async () => {
    const environment = await envs.start(
      server,
      {},
      { timeoutMs: 1500, managedInstances: { maxConcurrency: 2, workers: 1 } },
    )
    const result = await environment.invoke({ sleepSeconds: 4 })
    expect(result).toMatchObject({ ok: false, error: { name: 'DeadlineError' } })
  })

  test('no time left at the start: fails at once with DeadlineError and opens nothing', async () => {
    const managed = createDbConnection({ config: server.config, fleet: 'no-time-left' })
    try {
      const before = await server.status('Connections')
      // Managed Instances: the remaining time keeps counting below zero.
      const context = { ...fakeContext(), getRemainingTimeInMillis: () => -20 }
      const session = managed.session(context)
      await expect(session.query('SELECT 1')).rejects.toThrow(DeadlineError)
      await expect(session.query('SELECT 1')).rejects.toThrow('no time left')
      await session.release()
      expect(managed.counters.opens).toBe(0)
      expect(await server.status('Connections')).toBe(before)
    } finally {
      await managed.dispose()
    }
  })
})
