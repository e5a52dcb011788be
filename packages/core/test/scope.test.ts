import { describe, expect, test } from '@jest/globals'
import { Deadline, ReleasedError, Scope } from '../src/index.js'
import { fakeBackend, info, makePool } from './support/fake-backend.js'

/** Turns of the event loop until `done()`, bounded: the timers under test run on their own. */
const until = async (done: () => boolean, what: string) => {
  const started = Date.now()
  while (!done()) {
    if (Date.now() - started > 5_000) throw new Error(`${what} never happened`)
    await new Promise((resolve) => setImmediate(resolve))
  }
}

describe('Scope: one invocation, released exactly once', () => {
  test('after release every use fails with ReleasedError and takes no slot', async () => {
    const { adapter, state } = fakeBackend()
    const pool = makePool(adapter, { maxClients: 1 })
    const scope = new Scope(pool, Deadline.none(), info)
    await scope.client()
    await scope.release('keep', 'test')
    for (let i = 0; i < 5; i++) {
      await expect(scope.client()).rejects.toBeInstanceOf(ReleasedError)
      await expect(scope.use(async () => 'ran')).rejects.toBeInstanceOf(ReleasedError)
    }
    expect(() => scope.assertLive('context.db.query')).toThrow(
      /context\.db\.query was used after the invocation ended/,
    )
    // The only slot is still free for the next invocation, on the same connection.
    const next = new Scope(pool, Deadline.none(), info)
    await next.client()
    expect(state.connects).toBe(1)
  })

  test('a second release does nothing', async () => {
    const { adapter, state } = fakeBackend()
    const pool = makePool(adapter)
    const scope = new Scope(pool, Deadline.none(), info)
    await scope.client()
    await scope.release('destroy', 'first')
    await scope.release('destroy', 'second')
    expect(state.destroyed).toEqual([1])
  })

  test('released while waiting for a slot: the slot goes back, nothing opens', async () => {
    const { adapter, state } = fakeBackend()
    const pool = makePool(adapter, { maxClients: 1 })
    const holder = new Scope(pool, Deadline.none(), info)
    await holder.client()
    const waiting = new Scope(pool, Deadline.none(), info)
    const pending = waiting.client()
    await waiting.release('keep', 'ended')
    await holder.release('keep', 'done')
    await expect(pending).rejects.toBeInstanceOf(ReleasedError)
    const third = new Scope(pool, Deadline.none(), info)
    await third.client()
    expect(state.connects).toBe(1)
  })

  test('an operation still in flight at the deadline gets its client destroyed at once', async () => {
    const { adapter, state } = fakeBackend()
    const pool = makePool(adapter)
    const scope = new Scope(pool, new Deadline(Date.now() + 30), info)
    let finish!: () => void
    const operation = scope.use(() => new Promise<void>((resolve) => (finish = resolve)))
    const started = Date.now()
    while (state.destroyed.length === 0) {
      if (Date.now() - started > 5_000) throw new Error('the guard never fired')
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(state.destroyed).toEqual([1])
    finish()
    await operation
    await scope.release('keep', 'done')
  })

  test("back-to-back invocations share the pool's one deadline timer: none is set per invocation", async () => {
    const { adapter } = fakeBackend()
    const pool = makePool(adapter)
    // The first invocation connects (the connect has its own timeout): count after it.
    const first = new Scope(pool, Deadline.none(), info)
    await first.client()
    await first.release('keep', 'done')
    const realSetTimeout = globalThis.setTimeout
    let timers = 0
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
      timers += 1
      return realSetTimeout(...args)
    }) as typeof setTimeout
    try {
      for (let i = 0; i < 50; i++) {
        const scope = new Scope(pool, new Deadline(Date.now() + 60_000 + i), info)
        await scope.use(async () => i)
        await scope.release('keep', 'done')
      }
    } finally {
      globalThis.setTimeout = realSetTimeout
    }
    expect(timers).toBe(1)
    expect(pool.deadlineWatch.size).toBe(0)
  })

  test('a kept client is given back at once, with nothing to await; a close or a reset is awaited', async () => {
    const { adapter } = fakeBackend()
    let resets = 0
    adapter.reset = async () => {
      resets += 1
    }
    const pool = makePool(adapter)
    const kept = new Scope(pool, Deadline.none(), info)
    await kept.client()
    expect(kept.release('keep', 'done')).toBeUndefined()
    // The only slot is free now, before any turn.
    const dirty = new Scope(pool, Deadline.none(), info)
    expect(dirty.clientNow()).toBeDefined()
    dirty.dirty = true
    const resetting = dirty.release('keep', 'dirty')
    expect(resetting).toBeInstanceOf(Promise)
    await resetting
    expect(resets).toBe(1)
    const closing = new Scope(pool, Deadline.none(), info)
    await closing.client()
    await expect(closing.release('close', 'policy')).resolves.toBeUndefined()
    expect(pool.size).toBe(0)
  })

  test('work started after the deadline passed (a capacity read at release) is watched again: dropped at once', async () => {
    const { adapter, state } = fakeBackend()
    const pool = makePool(adapter)
    const scope = new Scope(pool, new Deadline(Date.now() + 20), info)
    await scope.use(async () => 'answered in time')
    await until(() => pool.deadlineWatch.size === 0, 'the deadline')
    expect(state.destroyed).toEqual([])
    scope.begin()
    await until(() => state.destroyed.length > 0, 'the late work being dropped')
    expect(state.destroyed).toEqual([1])
    scope.end()
    await scope.release('keep', 'done')
  })

  test("one invocation's deadline never destroys a shared client another live invocation is using", async () => {
    const { adapter, state } = fakeBackend()
    const pool = makePool(adapter, { sharing: 'shared' })
    const early = new Scope(pool, new Deadline(Date.now() + 20), info)
    const live = new Scope(pool, Deadline.none(), info)
    await live.client()
    let finishEarly!: () => void
    let finishLive!: () => void
    const earlyWork = early.use(() => new Promise<void>((resolve) => (finishEarly = resolve)))
    const liveWork = live.use(() => new Promise<void>((resolve) => (finishLive = resolve)))
    await until(() => pool.deadlineWatch.size === 0, 'the early deadline')
    expect(state.destroyed).toEqual([])
    finishEarly()
    finishLive()
    await Promise.all([earlyWork, liveWork])
    await early.release('keep', 'done')
    await live.release('keep', 'done')
  })

  test('a dirty client is reset at release; one that cannot be reset is destroyed', async () => {
    const { adapter, state } = fakeBackend()
    let resets = 0
    let failReset = false
    adapter.reset = async () => {
      resets += 1
      if (failReset) throw new Error('reset failed')
    }
    const pool = makePool(adapter)
    const clean = new Scope(pool, Deadline.none(), info)
    await clean.client()
    await clean.release('keep', 'clean')
    expect(resets).toBe(0)
    const dirty = new Scope(pool, Deadline.none(), info)
    await dirty.client()
    dirty.dirty = true
    await dirty.release('keep', 'dirty')
    expect(resets).toBe(1)
    expect(state.destroyed).toEqual([])
    failReset = true
    const broken = new Scope(pool, Deadline.none(), info)
    await broken.client()
    broken.dirty = true
    await broken.release('keep', 'dirty')
    expect(state.destroyed).toEqual([1])
    expect(pool.options.events.counters.resets).toBe(2)
  })

  test('sockets are referenced only while an operation is in flight, or while a raw client is held', async () => {
    const { adapter } = fakeBackend()
    let referenced = false
    adapter.setRef = (_client, ref) => {
      referenced = ref
    }
    const pool = makePool(adapter)
    const scope = new Scope(pool, Deadline.none(), info)
    const during = await scope.use(async () => referenced)
    expect(during).toBe(true)
    expect(referenced).toBe(false)
    scope.hold()
    expect(referenced).toBe(true)
    await scope.release('keep', 'done')
    expect(referenced).toBe(false)
  })

  test('on a shared client, one invocation never unreferences sockets another is using', async () => {
    const { adapter } = fakeBackend()
    let referenced = false
    adapter.setRef = (_client, ref) => {
      referenced = ref
    }
    const pool = makePool(adapter, { sharing: 'shared' })
    const busy = new Scope(pool, Deadline.none(), info)
    let finish!: () => void
    const operation = busy.use(() => new Promise<void>((resolve) => (finish = resolve)))
    while (busy.inFlight === 0) await new Promise((resolve) => setImmediate(resolve))
    expect(referenced).toBe(true)
    // A second invocation starts, uses the client and ends while the first still waits.
    const other = new Scope(pool, Deadline.none(), info)
    await other.use(async () => {})
    expect(referenced).toBe(true)
    await other.release('keep', 'done')
    expect(referenced).toBe(true)
    finish()
    await operation
    await busy.release('keep', 'done')
    expect(referenced).toBe(false)
  })

  test('a logged scope shows no pool and no config', async () => {
    const { adapter } = fakeBackend()
    const pool = makePool(adapter, { secret: 'pool-secret-1234' })
    const scope = new Scope(pool, Deadline.none(), info)
    await scope.client()
    expect(JSON.stringify({ scope })).not.toContain('pool-secret')
    expect(JSON.stringify({ scope })).toBe('{"scope":{"released":false,"clientId":1,"inFlight":0}}')
  })
})
