import { describe, expect, test } from '@jest/globals'
import {
  AuthenticationError,
  CapacityError,
  ConnectError,
  CredentialError,
  Deadline,
  DeadlineError,
  Scope,
} from '../src/index.js'

import { FakeClient, fakeBackend, info, makePool } from './support/fake-backend.js'

describe('ClientPool', () => {
  test('concurrent first uses of a shared client share one connect', async () => {
    const { adapter, state } = fakeBackend()
    const pool = makePool(adapter, { sharing: 'shared' })
    const leases = [1, 2, 3].map(() => new Scope(pool, Deadline.none(), info))
    const clients = await Promise.all(leases.map((l) => l.client()))
    expect(state.connects).toBe(1)
    expect(new Set(clients).size).toBe(1)
  })

  test('an idle client is pinged before reuse and replaced when dead; a fresh one is not pinged', async () => {
    const { adapter, state } = fakeBackend()
    const pool = makePool(adapter, { validateAfterIdleMs: 0 })
    const first = new Scope(pool, Deadline.none(), info)
    const client = await first.client()
    await first.release('keep', 'test')
    client.alive = false
    const second = new Scope(pool, Deadline.none(), info)
    const replacement = await second.client()
    expect(replacement).not.toBe(client)
    expect(state).toMatchObject({ pings: 1, connects: 2, destroyed: [client.id] })
    expect(pool.options.events.counters).toMatchObject({ validations: 1, validationFailures: 1, opens: 2 })
  })

  test('a client known to be broken is replaced without a ping', async () => {
    const { adapter, state } = fakeBackend()
    const pool = makePool(adapter)
    const first = new Scope(pool, Deadline.none(), info)
    const client = await first.client()
    await first.release('keep', 'test')
    client.closed = true
    await new Scope(pool, Deadline.none(), info).client()
    expect(state).toMatchObject({ pings: 0, connects: 2 })
  })

  test('capacity failures are retried, then reported as a CapacityError with the attempts', async () => {
    const { adapter, state } = fakeBackend({ failures: Array(10).fill('capacity') })
    const pool = makePool(adapter)
    const error = await new Scope(pool, Deadline.none(), info).client().catch((e) => e)
    expect(error).toBeInstanceOf(CapacityError)
    expect(error).toMatchObject({ attempts: 5, code: 'CAPACITY' })
    expect(state.connects).toBe(5)
  })

  test('a provided secret is fetched per new connection and refreshed once after an auth failure', async () => {
    const tokens = ['expired', 'fresh', 'unused']
    const { adapter, state } = fakeBackend({ acceptSecret: 'fresh' })
    const pool = makePool(adapter, { secret: async () => tokens.shift()! })
    const client = await new Scope(pool, Deadline.none(), info).client()
    expect(client.secret).toBe('fresh')
    expect(state.secrets).toEqual(['expired', 'fresh'])
  })

  test('a second auth failure is final', async () => {
    const { adapter, state } = fakeBackend({ acceptSecret: 'never' })
    const pool = makePool(adapter, { secret: async () => 'wrong-secret-value' })
    const error = await new Scope(pool, Deadline.none(), info).client().catch((e) => e)
    expect(error).toBeInstanceOf(AuthenticationError)
    expect(state.connects).toBe(2)
    expect(error.message).not.toContain('wrong-secret-value')
  })

  test('a provider that never answers fails the connect within the deadline, asked once, nothing opened', async () => {
    const { adapter, state } = fakeBackend()
    let asked = 0
    const pool = makePool(adapter, {
      secret: () => {
        asked += 1
        return new Promise<string>(() => {})
      },
    })
    const error = await new Scope(pool, new Deadline(Date.now() + 40), info).client().catch((e) => e)
    expect(error).toBeInstanceOf(ConnectError)
    expect(error.message).toContain('the password provider failed (no answer within')
    expect(error.cause).toBeInstanceOf(CredentialError)
    expect({ asked, connects: state.connects }).toEqual({ asked: 1, connects: 0 })
  })

  test('a connect that outlives its timeout is destroyed when it completes late', async () => {
    const { adapter, state } = fakeBackend({ hangMs: 120 })
    const pool = makePool(adapter, {
      connectTimeoutMs: 20,
      retry: { strategy: 'full', baseMs: 1, capMs: 1, maxAttempts: 1 },
    })
    const error = await new Scope(pool, Deadline.none(), info).client().catch((e) => e)
    expect(error.message).toContain('connect timed out')
    // The connect finishes 100 ms after the timeout gave up on it; wait for that, then look.
    while (state.destroyed.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
    expect(state.destroyed).toEqual([1])
  })

  test('at the cap, a lease waits for a release, and gives up at its deadline', async () => {
    const { adapter } = fakeBackend()
    const pool = makePool(adapter, { maxClients: 1 })
    const holder = new Scope(pool, Deadline.none(), info)
    await holder.client()
    const waiting = new Scope(pool, Deadline.none(), info).client()
    const gaveUp = new Scope(pool, new Deadline(Date.now() + 30), info).client().catch((e) => e)
    expect(await gaveUp).toBeInstanceOf(DeadlineError)
    await holder.release('keep', 'done')
    expect(await waiting).toBeInstanceOf(FakeClient)
  })

  test('a release with an operation still in flight drops the client', async () => {
    const { adapter, state } = fakeBackend()
    const pool = makePool(adapter)
    const lease = new Scope(pool, Deadline.none(), info)
    let finish: () => void = () => {}
    const running = lease.use(() => new Promise<void>((resolve) => (finish = resolve)))
    await new Promise((resolve) => setImmediate(resolve))
    await lease.release('keep', 'timed out handler')
    expect(state.destroyed).toEqual([1])
    finish()
    await running
  })
})
