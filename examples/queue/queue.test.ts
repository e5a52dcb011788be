import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { RedisServer } from '@middy-downstream/testing'
import { runScenario } from './scenario.mjs'

// The demo's scenario at a small scale (the full one is `pnpm demo:queue`).
let redis: RedisServer
beforeAll(async () => {
  redis = await RedisServer.start()
})
afterAll(async () => {
  await redis?.dispose()
})

const small = {
  messages: 120,
  environments: 6,
  downstreamLimit: 2,
  timeoutMs: 4000,
  visibilityTimeoutMs: 6000,
}

it('without a guard the downstream is overloaded; with it, never, and every message is processed once', async () => {
  // One receive each: what fails is dead-lettered at once, which keeps this part short.
  const unguarded = await runScenario({ ...small, name: 'no guard', maxReceiveCount: 1 })
  expect(unguarded.overloads).toBeGreaterThan(0)
  expect(unguarded.deadLettered).toBeGreaterThan(0)

  // A permit per invocation, and a permit per downstream call (lazy).
  for (const guardMode of ['batch', 'record'] as const) {
    const guarded = await runScenario({ ...small, name: guardMode, guardRedisUrl: redis.url, guardMode })
    expect(guarded).toMatchObject({
      overloads: 0,
      deadLettered: 0,
      processedOnce: 120,
      processedTwiceOrMore: 0,
    })
    expect(guarded.peakInFlight).toBeLessThanOrEqual(2)
  }
}, 180_000)
