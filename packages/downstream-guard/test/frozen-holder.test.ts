import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { fakeContext, LambdaEnvironment, RedisServer } from '@middy-downstream/testing'
import type { PermitInfo } from '../src/index.js'
import { guardedHandler, uniqueName, until } from './helpers.js'

let redis: RedisServer
let holder: LambdaEnvironment | undefined
beforeAll(async () => {
  redis = await RedisServer.start()
})
afterAll(async () => {
  await holder?.close()
  await redis?.dispose()
})

it('a permit held by a frozen environment expires after its remaining time + the margin', async () => {
  const name = uniqueName('frozen')
  const key = `middy-downstream:guard:{${name}}:leases`
  holder = await LambdaEnvironment.start({
    module: new URL('./fixtures/holder.mjs', import.meta.url).pathname,
    timeoutMs: 1500,
    env: { REDIS_URL: redis.url, GUARD_NAME: name },
    freezeBetweenInvocations: false,
  })
  const invocation = holder.invoke({})
  await until(async () => (await redis.cli('ZCARD', key)) === '1')
  // Frozen mid-invocation: its timers stop, so it never gives the permit back itself.
  holder.freeze()
  const impatient = guardedHandler({ name, redis: { url: redis.url }, concurrency: 1, maxWaitMs: 0 })
  await expect(impatient({}, fakeContext({ timeoutMs: 10_000 }))).rejects.toMatchObject({
    limit: 'concurrency',
  })
  const next = guardedHandler({ name, redis: { url: redis.url }, concurrency: 1, marginMs: 0 })
  const seen = (await next({}, fakeContext({ timeoutMs: 10_000 }))) as PermitInfo
  expect(seen.state).toBe('held')
  expect(holder.frozen).toBe(true)
  await holder.close()
  expect((await invocation).ok).toBe(false)
})
