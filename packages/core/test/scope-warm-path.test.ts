import { describe, expect, test } from '@jest/globals'
import { Deadline, ReleasedError, Scope } from '../src/index.js'
import { fakeBackend, info, makePool } from './support/fake-backend.js'

// The warm path of back-to-back invocations: a client used a moment ago is handed out at once,
// without a promise. It must never skip what the slow path does: validation after idle, the
// broken check, waiting for a busy slot, use after release.
describe('Scope.clientNow: the client at hand, without waiting', () => {
  type SlotView = { lastUsedAt: number }
  const slotOf = (pool: unknown): SlotView => {
    const slot = (pool as { slots: SlotView[] }).slots[0]
    if (!slot) throw new Error('no slot')
    return slot
  }
  /** A pool whose client was given back "now", whatever a slow machine takes between two lines. */
  const warmPool = async (overrides = {}) => {
    const backend = fakeBackend()
    const pool = makePool(backend.adapter, overrides)
    const first = new Scope(pool, Deadline.none(), info)
    const client = await first.client()
    await first.release('keep', 'test')
    slotOf(pool).lastUsedAt = Date.now() + 60_000
    return { ...backend, pool, client }
  }

  test('a client given back a moment ago is handed out at once, and reused', async () => {
    const { pool, client, state } = await warmPool()
    const scope = new Scope(pool, Deadline.none(), info)
    expect(scope.clientNow()).toBe(client)
    expect(scope.clientNow()).toBe(client)
    await expect(scope.client()).resolves.toBe(client)
    expect(state).toMatchObject({ connects: 1, pings: 0 })
    await scope.release('keep', 'test')
    expect(scope.clientNow()).toBeUndefined()
    await expect(scope.client()).rejects.toBeInstanceOf(ReleasedError)
  })

  test("an invocation's first operation on a warm client starts at once, without a turn", async () => {
    const { pool, client } = await warmPool()
    const scope = new Scope(pool, Deadline.none(), info)
    let ranOn: unknown
    const pending = scope.use(async (c) => {
      ranOn = c
      return 'done'
    })
    expect(ranOn).toBe(client)
    await expect(pending).resolves.toBe('done')
    await scope.release('keep', 'test')
  })

  test('an operation that reports its own end gets its promise back as it is, and counts in flight until settled()', async () => {
    const { pool, client } = await warmPool()
    const scope = new Scope(pool, Deadline.none(), info)
    let report!: () => void
    const answer = Promise.resolve('rows')
    const returned = scope.use((c, settled) => {
      expect(c).toBe(client)
      report = settled
      return answer
    })
    expect(returned).toBe(answer)
    expect(scope.inFlight).toBe(1)
    report()
    report()
    expect(scope.inFlight).toBe(0)
    await scope.release('keep', 'test')
  })

  test('a client due for validation is not handed out at once: client() pings it first', async () => {
    const { pool, state } = await warmPool({ validateAfterIdleMs: 0 })
    slotOf(pool).lastUsedAt = Date.now()
    const scope = new Scope(pool, Deadline.none(), info)
    expect(scope.clientNow()).toBeUndefined()
    await scope.client()
    expect(state.pings).toBe(1)
    // Once acquired the slow way, it is at hand for the rest of the invocation.
    expect(scope.clientNow()).toBeDefined()
  })

  test('a client idle long enough for a freeze is not handed out at once', async () => {
    const { pool, state } = await warmPool()
    const scope = new Scope(pool, Deadline.none(), info)
    slotOf(pool).lastUsedAt = Date.now() - 10
    expect(scope.clientNow()).toBeUndefined()
    await scope.client()
    expect(state.connects).toBe(1)
  })

  test('a broken client is not handed out: client() replaces it', async () => {
    const { pool, client, state } = await warmPool()
    client.closed = true
    const scope = new Scope(pool, Deadline.none(), info)
    expect(scope.clientNow()).toBeUndefined()
    const replaced = await scope.client()
    expect(replaced).not.toBe(client)
    expect(state.connects).toBe(2)
  })

  test('a slot held by another invocation is not taken (exclusive)', async () => {
    const { pool } = await warmPool({ maxClients: 1 })
    const holder = new Scope(pool, Deadline.none(), info)
    expect(holder.clientNow()).toBeDefined()
    slotOf(pool).lastUsedAt = Date.now() + 60_000
    const other = new Scope(pool, Deadline.none(), info)
    expect(other.clientNow()).toBeUndefined()
    const waiting = other.client()
    await holder.release('keep', 'done')
    await expect(waiting).resolves.toBeDefined()
    await other.release('keep', 'done')
  })
})
