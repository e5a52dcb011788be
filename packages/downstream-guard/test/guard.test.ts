import { describe, expect, it } from '@jest/globals'
import { fakeContext, freePort } from '@middy-downstream/testing'
import { type PermitInfo, ThrottledError } from '../src/index.js'
import { countOf, guardedHandler, privateRedis, uniqueName, until } from './helpers.js'

const redis = privateRedis()
const leases = (name: string) => countOf(redis.server, name)
const options = (name: string) => ({ name, redis: { url: redis.server.url }, concurrency: 5 })

describe('permits are leases given back on every path', () => {
  it('holds a lease while the handler runs and gives it back after it', async () => {
    const name = uniqueName('after')
    let during = -1
    const handler = guardedHandler(options(name), async () => {
      during = await leases(name)
      return undefined
    })
    const seen = (await handler({}, fakeContext({ timeoutMs: 5000 }))) as PermitInfo
    expect(seen.state).toBe('held')
    expect(during).toBe(1)
    expect(await leases(name)).toBe(0)
  })

  it('gives it back when the handler throws', async () => {
    const name = uniqueName('error')
    const handler = guardedHandler(options(name), async () => {
      throw new Error('boom')
    })
    await expect(handler({}, fakeContext({ timeoutMs: 5000 }))).rejects.toThrow('boom')
    expect(await leases(name)).toBe(0)
  })

  it('gives back a permit left by an early return when the next invocation begins, once the first is over', async () => {
    const name = uniqueName('early')
    // Leases far longer than the test: only a release can remove them.
    const handler = guardedHandler({ ...options(name), leaseMarginMs: 60_000 }, undefined, [
      { before: () => ({ early: true }) },
    ])
    const startedAt = Date.now()
    expect(await handler({}, fakeContext({ timeoutMs: 1200, startedAt }))).toEqual({ early: true })
    expect(await leases(name)).toBe(1) // Middy skipped after
    await until(() => Date.now() > startedAt + 1250)
    await handler({}, fakeContext({ timeoutMs: 5000 }))
    expect(await leases(name)).toBe(1) // the second early return's own lease, not the first's
  })

  it('a late release of an expired lease leaves the next holder’s lease alone (fencing by lease id)', async () => {
    const name = uniqueName('fence')
    const settings = { name, redis: { url: redis.server.url }, concurrency: 1, leaseMarginMs: 0, marginMs: 0 }
    let releaseFirst: () => void = () => {}
    let secondHolding: () => void = () => {}
    let releaseSecond: () => void = () => {}
    const secondHolds = new Promise<void>((resolve) => {
      secondHolding = resolve
    })
    const slow = guardedHandler(
      settings,
      () => new Promise((resolve) => (releaseFirst = () => resolve(undefined))),
    )
    const next = guardedHandler(settings, async () => {
      secondHolding()
      await new Promise((resolve) => (releaseSecond = () => resolve(undefined)))
      return undefined
    })
    // The first holder's lease lasts its 300 ms of remaining time; it keeps running well past it.
    const first = slow({}, fakeContext({ timeoutMs: 300 }))
    await until(async () => (await leases(name)) === 1)
    const second = next({}, fakeContext({ timeoutMs: 10_000 }))
    await secondHolds
    releaseFirst()
    await first
    expect(await leases(name)).toBe(1) // the second holder's lease survived the first's release
    releaseSecond()
    expect(((await second) as PermitInfo).state).toBe('held')
    expect(await leases(name)).toBe(0)
  })
})

describe('limits', () => {
  it('never admits more than the concurrency limit under 50 concurrent acquirers', async () => {
    const name = uniqueName('fifty')
    let inFlight = 0
    let peak = 0
    let done = 0
    const handler = guardedHandler(options(name), async () => {
      inFlight += 1
      peak = Math.max(peak, inFlight)
      // work that takes a while, so acquirers overlap
      await new Promise((resolve) => setTimeout(resolve, 25))
      inFlight -= 1
      done += 1
      return undefined
    })
    const results = await Promise.all(
      Array.from({ length: 50 }, () => handler({}, fakeContext({ timeoutMs: 30_000 }))),
    )
    expect(done).toBe(50)
    expect(peak).toBe(5)
    expect(results.every((r) => (r as PermitInfo).state === 'held')).toBe(true)
    expect(await leases(name)).toBe(0)
  })

  it('never grants more than burst + rate × the measured window (the exact count: script-clock.test.ts)', async () => {
    const name = uniqueName('rate')
    const rate = 20
    const burst = 5
    const handler = guardedHandler({ name, redis: { url: redis.server.url }, rate, burst, maxWaitMs: 0 })
    let granted = 0
    let refused = 0
    const started = Date.now()
    const worker = async () => {
      while (granted < 40) {
        try {
          await handler({}, fakeContext({ timeoutMs: 10_000 }))
          granted += 1
        } catch (error) {
          if (!(error instanceof ThrottledError) || error.limit !== 'rate') throw error
          refused += 1
        }
      }
    }
    await Promise.all(Array.from({ length: 8 }, worker))
    // Every grant happened inside this window, however slowly the machine ran.
    const windowSeconds = (Date.now() - started) / 1000
    expect(refused).toBeGreaterThan(0)
    expect(granted).toBeLessThanOrEqual(burst + Math.ceil(rate * windowSeconds))
  })

  it('serves waiters first come, first served: a newcomer never overtakes a longer waiter', async () => {
    const name = uniqueName('fifo')
    const waiters = () => countOf(redis.server, name, 'waiters')
    const order: string[] = []
    let releaseHolder: () => void = () => {}
    const holder = guardedHandler(
      { ...options(name), concurrency: 1 },
      () => new Promise((resolve) => (releaseHolder = () => resolve(undefined))),
    )
    const holding = holder({}, fakeContext({ timeoutMs: 20_000 }))
    await until(async () => (await leases(name)) === 1)
    const waiter = (label: string) =>
      guardedHandler({ ...options(name), concurrency: 1 }, async () => {
        order.push(label)
        return undefined
      })({}, fakeContext({ timeoutMs: 20_000 }))
    const first = waiter('first')
    await until(async () => (await waiters()) === 1)
    const second = waiter('second')
    await until(async () => (await waiters()) === 2)
    releaseHolder()
    await Promise.all([holding, first, second])
    expect(order).toEqual(['first', 'second'])
    expect(await waiters()).toBe(0)
  })

  it('waits for a permit while the remaining time allows', async () => {
    const name = uniqueName('wait')
    // 3 per second: a fractional interval (333.3 ms) between permits.
    const handler = guardedHandler({ name, redis: { url: redis.server.url }, rate: 3, marginMs: 0 })
    const answers = (await Promise.all(
      Array.from({ length: 3 }, () => handler({}, fakeContext({ timeoutMs: 5000 }))),
    )) as PermitInfo[]
    // Burst 1: the third permit comes two intervals (666 ms) after the first at the earliest.
    expect(answers.map((a) => a.state)).toEqual(['held', 'held', 'held'])
    expect(Math.max(...answers.map((a) => a.waitedMs))).toBeGreaterThanOrEqual(600)
  })
})

describe('Redis unreachable', () => {
  const unreachable = async (failOpen: boolean) => ({
    name: uniqueName('down'),
    redis: { url: `redis://127.0.0.1:${await freePort()}` },
    concurrency: 1,
    failOpen,
    redisTimeoutMs: 300,
  })

  it('failOpen: false (the default) refuses the invocation with the cause kept', async () => {
    const handler = guardedHandler(await unreachable(false))
    const error = (await handler({}, fakeContext({ timeoutMs: 3000 })).catch(
      (e: unknown) => e,
    )) as ThrottledError
    expect(error).toBeInstanceOf(ThrottledError)
    expect(error.limit).toBe('unavailable')
    expect(error.cause).toBeDefined()
  })

  it('failOpen: true runs the handler unguarded', async () => {
    let ran = false
    const handler = guardedHandler(await unreachable(true), async (_event, context) => {
      ran = true
      return { ...context.guard }
    })
    const seen = (await handler({}, fakeContext({ timeoutMs: 3000 }))) as PermitInfo
    expect(ran).toBe(true)
    expect(seen.state).toBe('unguarded')
  })

  it('refuses a batch with every record reported when failOpen is off', async () => {
    const handler = guardedHandler(await unreachable(false))
    const event = { Records: [{ eventSource: 'aws:sqs', messageId: 'm1' }] }
    expect(await handler(event, fakeContext({ timeoutMs: 3000 }))).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm1' }],
    })
  })
})
