import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createRedisClient, type RedisClient } from '@middy-downstream/redis-connection'
import { RedisServer } from '@middy-downstream/testing'
import { PermitKeys } from '../src/index.js'
import { uniqueName } from './helpers.js'

// The acquire script on a clock the test drives (ARGV "now"), so what is asserted is a count of
// permits, never how long something took.
let redis: RedisServer
let client: RedisClient
beforeAll(async () => {
  redis = await RedisServer.start()
  client = (await createRedisClient({ url: redis.url }).client()) as RedisClient
})
afterAll(async () => {
  await createRedisClient({ url: redis.url }).dispose()
  await redis?.dispose()
})

let leases = 0
const ask = (keys: PermitKeys, now: number, staleMs = 0, leaseId = `lease-${++leases}`) =>
  keys.acquire(client, { leaseId, leaseMs: 60_000, staleMs, now })

describe('rate (GCRA) on a driven clock', () => {
  it.each([
    { rate: 20, burst: 5, windowMs: 3000 },
    // A fractional interval (333.3 ms); one permit is a ninth of 3 s worth, so a longer window.
    { rate: 3, burst: 1, windowMs: 6000 },
    { rate: 50, burst: 10, windowMs: 3000 },
  ])(
    'admits rate × seconds + burst when asked far more often: $rate/s, burst $burst, $windowMs ms',
    async ({ rate, burst, windowMs }) => {
      const keys = new PermitKeys('t', uniqueName('rate'), { rate, burst })
      const start = 1_000_000
      let granted = 0
      // 8 callers every 5 ms: far more demand than the limit.
      for (let t = start; t < start + windowMs; t += 5) {
        for (let caller = 0; caller < 8; caller++) if ((await ask(keys, t)).granted) granted += 1
      }
      // The burst at once, then one permit per interval: those due inside the window.
      const due = burst - 1 + Math.ceil((rate * windowMs) / 1000)
      expect(granted).toBeGreaterThanOrEqual(due - 1)
      expect(granted).toBeLessThanOrEqual(due)
      // What the issue asks: within 10% of R over the window (the burst left out).
      expect(Math.abs((granted - burst) / (windowMs / 1000) - rate) / rate).toBeLessThan(0.1)
    },
  )

  it('a refusal says when the next permit is due', async () => {
    const keys = new PermitKeys('t', uniqueName('due'), { rate: 4, burst: 1 })
    expect((await ask(keys, 5000)).granted).toBe(true)
    expect(await ask(keys, 5100)).toMatchObject({ granted: false, limit: 'rate', retryAfterMs: 150 })
    expect((await ask(keys, 5250)).granted).toBe(true)
  })
})

describe('waiters are served first come, first served', () => {
  it('a permit given back goes to the longest waiter, not to a newcomer', async () => {
    const keys = new PermitKeys('t', uniqueName('fifo'), { concurrency: 1, burst: 1 })
    expect((await ask(keys, 1000, 0, 'holder')).granted).toBe(true)
    expect(await ask(keys, 1001, 5000, 'first')).toMatchObject({ granted: false, ahead: 0, behind: 1 })
    expect(await ask(keys, 1002, 5000, 'second')).toMatchObject({ granted: false, ahead: 1, behind: 2 })
    await keys.release(client, 'holder')
    // The slot is free, but two waiters are ahead of the newcomer: it is refused without queueing.
    expect(await ask(keys, 1003, 0, 'newcomer')).toMatchObject({ granted: false, ahead: 2 })
    expect((await ask(keys, 1004, 5000, 'second')).granted).toBe(false)
    expect((await ask(keys, 1005, 5000, 'first')).granted).toBe(true)
    await keys.release(client, 'first')
    expect((await ask(keys, 1006, 5000, 'second')).granted).toBe(true)
    expect(await client.zcard(keys.waiters)).toBe(0)
  })

  it('a waiter that stopped asking loses its place after its staleness', async () => {
    const keys = new PermitKeys('t', uniqueName('stale'), { concurrency: 1, burst: 1 })
    expect((await ask(keys, 1000, 0, 'holder')).granted).toBe(true)
    expect((await ask(keys, 1001, 500, 'gone')).granted).toBe(false)
    await keys.release(client, 'holder')
    expect((await ask(keys, 1200, 500, 'next')).granted).toBe(false) // 'gone' is still ahead
    expect((await ask(keys, 1600, 500, 'next')).granted).toBe(true) // 'gone' went stale at 1501
  })

  it('a waiter that gives up leaves the queue with its release', async () => {
    const keys = new PermitKeys('t', uniqueName('leave'), { concurrency: 1, burst: 1 })
    expect((await ask(keys, 1000, 0, 'holder')).granted).toBe(true)
    expect((await ask(keys, 1001, 5000, 'quitter')).granted).toBe(false)
    expect(await keys.release(client, 'quitter')).toBe(false) // it held no lease
    await keys.release(client, 'holder')
    expect((await ask(keys, 1002, 0, 'next')).granted).toBe(true)
  })

  it('under a rate limit the waiters ahead take the permits due first', async () => {
    const keys = new PermitKeys('t', uniqueName('rate-fifo'), { rate: 10, burst: 1 })
    expect((await ask(keys, 10_000, 0, 'a')).granted).toBe(true)
    expect(await ask(keys, 10_010, 5000, 'b')).toMatchObject({ granted: false, retryAfterMs: 90 })
    // c is behind b: its permit is due one interval after b's.
    expect(await ask(keys, 10_020, 5000, 'c')).toMatchObject({ granted: false, retryAfterMs: 180 })
    expect((await ask(keys, 10_100, 5000, 'c')).granted).toBe(false)
    expect((await ask(keys, 10_100, 5000, 'b')).granted).toBe(true)
    expect((await ask(keys, 10_200, 5000, 'c')).granted).toBe(true)
  })
})
