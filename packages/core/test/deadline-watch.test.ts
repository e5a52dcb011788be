import { afterEach, describe, expect, jest, test } from '@jest/globals'
import { Deadline, DeadlineWatch, type DeadlineWatcher, LazyTimer } from '../src/index.js'

/** A watcher that records when it was told its deadline passed. */
const watcher = (expiresAt: number) => {
  const calls: number[] = []
  const self: DeadlineWatcher & { calls: number[] } = {
    deadline: new Deadline(expiresAt),
    deadlinePassed: () => calls.push(Date.now()),
    calls,
  }
  return self
}

/** Turns of the event loop until `done()`, bounded: the timers under test run on their own. */
const until = async (done: () => boolean, what: string) => {
  const started = Date.now()
  while (!done()) {
    if (Date.now() - started > 5_000) throw new Error(`${what} never happened`)
    await new Promise((resolve) => setImmediate(resolve))
  }
}

const realSetTimeout = globalThis.setTimeout
afterEach(() => {
  globalThis.setTimeout = realSetTimeout
})

/** Counts the timers set from now on. */
const countTimers = () => {
  const count = { set: 0 }
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    count.set += 1
    return realSetTimeout(...args)
  }) as typeof setTimeout
  return count
}

describe('LazyTimer: one timer that fires no later than asked', () => {
  test('a later request keeps the pending timer; an earlier one replaces it', async () => {
    let fired = 0
    const timer = new LazyTimer(() => {
      fired += 1
    })
    const count = countTimers()
    const now = Date.now()
    for (let i = 0; i < 100; i++) timer.fireBy(now + 60_000 + i)
    expect(count.set).toBe(1)
    timer.fireBy(now + 5)
    expect(count.set).toBe(2)
    await until(() => fired === 1, 'the earlier timer')
    expect(timer.pending).toBe(false)
    timer.fireBy(now + 60_000)
    timer.cancel()
    expect(timer.pending).toBe(false)
  })
})

describe('LazyTimer with a deadline weeks away', () => {
  test('a delay longer than Node takes is cut to the longest it takes, not to 1 ms', () => {
    const delays: number[] = []
    globalThis.setTimeout = ((fn: () => void, ms: number) => {
      delays.push(ms)
      return realSetTimeout(fn, 1_000_000)
    }) as typeof setTimeout
    const timer = new LazyTimer(() => {})
    timer.fireBy(Date.now() + 30 * 24 * 3_600_000)
    timer.cancel()
    expect(delays).toEqual([2 ** 31 - 1])
  })
})

describe('LazyTimer under fake timers', () => {
  test('a timer set under fake timers is not trusted once real timers are back', async () => {
    let fired = 0
    const timer = new LazyTimer(() => {
      fired += 1
    })
    jest.useFakeTimers()
    timer.fireBy(Date.now() + 10)
    jest.useRealTimers()
    // A later request would keep a real pending timer; the fake one would never fire.
    timer.fireBy(Date.now() + 20)
    await until(() => fired === 1, 'the timer set after the fake timers were gone')
  })
})

describe('DeadlineWatch: each watcher told once its own deadline passed, one timer for all', () => {
  test('back-to-back watchers, each with a later deadline, set one timer', () => {
    const watch = new DeadlineWatch()
    const count = countTimers()
    const now = Date.now()
    for (let i = 0; i < 1_000; i++) {
      const w = watcher(now + 60_000 + i)
      watch.watch(w)
      watch.unwatch(w)
    }
    expect(count.set).toBe(1)
    expect(watch.size).toBe(0)
    watch.dispose()
  })

  test('a watcher is told once its deadline passed, and one with a later deadline only at its own', async () => {
    const watch = new DeadlineWatch()
    const now = Date.now()
    const early = watcher(now + 20)
    const late = watcher(now + 80)
    watch.watch(late)
    watch.watch(early)
    await until(() => early.calls.length > 0, 'the early deadline')
    expect(early.calls[0]).toBeGreaterThanOrEqual(early.deadline.expiresAt)
    expect(late.calls.length === 0 || (late.calls[0] as number) >= late.deadline.expiresAt).toBe(true)
    await until(() => late.calls.length > 0, 'the late deadline')
    expect(late.calls[0]).toBeGreaterThanOrEqual(late.deadline.expiresAt)
    expect([early.calls.length, late.calls.length, watch.size]).toEqual([1, 1, 0])
  })

  test('a watcher unwatched before its deadline is never told, while the others are', async () => {
    const watch = new DeadlineWatch()
    const now = Date.now()
    const gone = watcher(now + 10)
    const other = watcher(now + 40)
    watch.watch(gone)
    watch.watch(other)
    watch.unwatch(gone)
    await until(() => other.calls.length > 0, 'the other deadline')
    expect(gone.calls).toEqual([])
  })

  test('a watcher without a deadline is not watched; after dispose nothing is told', async () => {
    const watch = new DeadlineWatch()
    watch.watch({ deadline: Deadline.none(), deadlinePassed: () => {} })
    expect(watch.size).toBe(0)
    const disposed = watcher(Date.now() + 5)
    watch.watch(disposed)
    watch.dispose()
    expect(watch.size).toBe(0)
    const other = new DeadlineWatch()
    const later = watcher(Date.now() + 30)
    other.watch(later)
    await until(() => later.calls.length > 0, 'the later deadline')
    expect(disposed.calls).toEqual([])
  })
})
