import { describe, expect, test } from '@jest/globals'
import {
  AuthenticationError,
  CapacityError,
  ClientPool,
  type ConnectFailure,
  type ConnectionAdapter,
  Deadline,
  DeadlineError,
  EventSink,
  Lease,
  type PoolOptions,
} from '../src/index.js'

/**
 * An in-memory backend: the pool's logic (single flight, validation, retries, credentials) is
 * pure and tested here; the real drivers are tested against real servers in their packages.
 */
class FakeClient {
  alive = true
  closed = false
  constructor(
    readonly id: number,
    readonly secret: string | undefined,
  ) {}
}

const fakeBackend = (
  script: { failures?: ConnectFailure[]; acceptSecret?: string; hangMs?: number } = {},
) => {
  const failures = [...(script.failures ?? [])]
  const state = { connects: 0, pings: 0, destroyed: [] as number[], secrets: [] as (string | undefined)[] }
  const adapter: ConnectionAdapter<FakeClient> = {
    connect: async ({ secret }) => {
      state.connects += 1
      state.secrets.push(secret)
      if (script.hangMs) await new Promise((resolve) => setTimeout(resolve, script.hangMs))
      const failure = failures.shift()
      if (failure) throw Object.assign(new Error(`fake ${failure}`), { code: failure.toUpperCase() })
      if (script.acceptSecret !== undefined && secret !== script.acceptSecret) {
        throw Object.assign(new Error('fake access denied'), { code: 'AUTHENTICATION' })
      }
      return new FakeClient(state.connects, secret)
    },
    ping: async (client) => {
      state.pings += 1
      if (!client.alive) throw new Error('dead')
    },
    close: async (client) => {
      client.closed = true
    },
    destroy: (client) => {
      state.destroyed.push(client.id)
    },
    isBroken: (client) => client.closed,
    classifyConnectError: (error) =>
      (String((error as { code?: string }).code).toLowerCase() as ConnectFailure) ?? 'fatal',
  }
  return { adapter, state }
}

const makePool = (adapter: ConnectionAdapter<FakeClient>, overrides: Partial<PoolOptions<FakeClient>> = {}) =>
  new ClientPool<FakeClient>({
    packageName: '@middy-downstream/test',
    adapter,
    events: new EventSink('@middy-downstream/test', 'k'),
    sharing: 'exclusive',
    maxClients: 1,
    validateAfterIdleMs: 60_000,
    validateTimeoutMs: 100,
    connectTimeoutMs: 1_000,
    closeTimeoutMs: 100,
    retry: { strategy: 'full', baseMs: 1, capMs: 5, maxAttempts: 5 },
    ...overrides,
  })

describe('ClientPool', () => {
  test('concurrent first uses of a shared client share one connect', async () => {
    const { adapter, state } = fakeBackend()
    const pool = makePool(adapter, { sharing: 'shared' })
    const leases = [1, 2, 3].map(() => new Lease(pool, Deadline.none()))
    const clients = await Promise.all(leases.map((l) => l.client()))
    expect(state.connects).toBe(1)
    expect(new Set(clients).size).toBe(1)
  })

  test('an idle client is pinged before reuse and replaced when dead; a fresh one is not pinged', async () => {
    const { adapter, state } = fakeBackend()
    const pool = makePool(adapter, { validateAfterIdleMs: 0 })
    const first = new Lease(pool, Deadline.none())
    const client = await first.client()
    await first.release('keep', 'test')
    client.alive = false
    const second = new Lease(pool, Deadline.none())
    const replacement = await second.client()
    expect(replacement).not.toBe(client)
    expect(state).toMatchObject({ pings: 1, connects: 2, destroyed: [client.id] })
    expect(pool.options.events.counters).toMatchObject({ validations: 1, validationFailures: 1, opens: 2 })
  })

  test('a client known to be broken is replaced without a ping', async () => {
    const { adapter, state } = fakeBackend()
    const pool = makePool(adapter)
    const first = new Lease(pool, Deadline.none())
    const client = await first.client()
    await first.release('keep', 'test')
    client.closed = true
    await new Lease(pool, Deadline.none()).client()
    expect(state).toMatchObject({ pings: 0, connects: 2 })
  })

  test('capacity failures are retried, then reported as a CapacityError with the attempts', async () => {
    const { adapter, state } = fakeBackend({ failures: Array(10).fill('capacity') })
    const pool = makePool(adapter)
    const error = await new Lease(pool, Deadline.none()).client().catch((e) => e)
    expect(error).toBeInstanceOf(CapacityError)
    expect(error).toMatchObject({ attempts: 5, code: 'CAPACITY' })
    expect(state.connects).toBe(5)
  })

  test('a provided secret is fetched per new connection and refreshed once after an auth failure', async () => {
    const tokens = ['expired', 'fresh', 'unused']
    const { adapter, state } = fakeBackend({ acceptSecret: 'fresh' })
    const pool = makePool(adapter, { secret: async () => tokens.shift()! })
    const client = await new Lease(pool, Deadline.none()).client()
    expect(client.secret).toBe('fresh')
    expect(state.secrets).toEqual(['expired', 'fresh'])
  })

  test('a second auth failure is final', async () => {
    const { adapter, state } = fakeBackend({ acceptSecret: 'never' })
    const pool = makePool(adapter, { secret: async () => 'wrong-secret-value' })
    const error = await new Lease(pool, Deadline.none()).client().catch((e) => e)
    expect(error).toBeInstanceOf(AuthenticationError)
    expect(state.connects).toBe(2)
    expect(error.message).not.toContain('wrong-secret-value')
  })

  test('a connect that outlives its timeout is destroyed when it completes late', async () => {
    const { adapter, state } = fakeBackend({ hangMs: 120 })
    const pool = makePool(adapter, {
      connectTimeoutMs: 20,
      retry: { strategy: 'full', baseMs: 1, capMs: 1, maxAttempts: 1 },
    })
    const error = await new Lease(pool, Deadline.none()).client().catch((e) => e)
    expect(error.message).toContain('connect timed out')
    // The connect finishes 100 ms after the timeout gave up on it; wait for that, then look.
    while (state.destroyed.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
    expect(state.destroyed).toEqual([1])
  })

  test('at the cap, a lease waits for a release, and gives up at its deadline', async () => {
    const { adapter } = fakeBackend()
    const pool = makePool(adapter, { maxClients: 1 })
    const holder = new Lease(pool, Deadline.none())
    await holder.client()
    const waiting = new Lease(pool, Deadline.none()).client()
    const gaveUp = new Lease(pool, new Deadline(Date.now() + 30)).client().catch((e) => e)
    expect(await gaveUp).toBeInstanceOf(DeadlineError)
    await holder.release('keep', 'done')
    expect(await waiting).toBeInstanceOf(FakeClient)
  })

  test('a release with an operation still in flight drops the client', async () => {
    const { adapter, state } = fakeBackend()
    const pool = makePool(adapter)
    const lease = new Lease(pool, Deadline.none())
    let finish: () => void = () => {}
    const running = lease.use(() => new Promise<void>((resolve) => (finish = resolve)))
    await new Promise((resolve) => setImmediate(resolve))
    await lease.release('keep', 'timed out handler')
    expect(state.destroyed).toEqual([1])
    finish()
    await running
  })
})
