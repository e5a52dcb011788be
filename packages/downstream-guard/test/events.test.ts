import diagnostics from 'node:diagnostics_channel'
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { type LifecycleEvent, lifecycleChannelName } from '@middy-downstream/core'
import { fakeContext, freePort, RedisServer } from '@middy-downstream/testing'
import type { GuardOptions } from '../src/index.js'
import { countOf, guardedHandler, uniqueName, until } from './helpers.js'

// The permit events, as the other packages emit theirs: to `onEvent` and on diagnostics_channel,
// with the request id and the function name, never a secret.
const secret = 'guard-events-very-secret'
let redis: RedisServer
beforeAll(async () => {
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'billing-consumer'
  redis = await RedisServer.start({ requirepass: secret })
})
afterAll(async () => {
  delete process.env.AWS_LAMBDA_FUNCTION_NAME
  await redis?.dispose()
})

const url = () => `redis://:${secret}@${redis.host}:${redis.port}`
const leases = (name: string) => countOf(redis, name)

const recorder = (name: string, more: Partial<GuardOptions> = {}) => {
  const events: LifecycleEvent[] = []
  const options: GuardOptions = {
    name,
    redis: { url: url() },
    concurrency: 1,
    onEvent: (event) => events.push(event),
    ...more,
  }
  return { events, options, types: () => events.map((event) => event.type) }
}

const context = (awsRequestId: string, timeoutMs = 5000) => fakeContext({ awsRequestId, timeoutMs })

const unsubscribes: (() => void)[] = []
afterEach(() => {
  for (const unsubscribe of unsubscribes.splice(0)) unsubscribe()
})

describe('permit events', () => {
  it('acquire and return, with the request id, the function name and the downstream', async () => {
    const name = uniqueName('plain')
    const { events, options } = recorder(name)
    await guardedHandler(options)({}, context('req-plain'))
    expect(events).toEqual([
      expect.objectContaining({
        type: 'acquire',
        package: '@middy-downstream/downstream-guard',
        key: name,
        awsRequestId: 'req-plain',
        functionName: 'test-function',
        attempts: 1,
        durationMs: expect.any(Number),
      }),
      expect.objectContaining({ type: 'return', awsRequestId: 'req-plain', durationMs: expect.any(Number) }),
    ])
  })

  it('wait (once), then acquire; throttle when no permit comes in time', async () => {
    const name = uniqueName('contended')
    let release: () => void = () => {}
    const holder = guardedHandler(
      { name, redis: { url: url() }, concurrency: 1 },
      () => new Promise((resolve) => (release = () => resolve(undefined))),
    )
    const holding = holder({}, context('req-holder', 10_000))
    await until(async () => (await leases(name)) === 1)

    const impatient = recorder(name, { maxWaitMs: 150 })
    await guardedHandler(impatient.options)({}, context('req-impatient')).catch(() => undefined)
    expect(impatient.types()).toEqual(['wait', 'throttle'])
    expect(impatient.events[1]).toMatchObject({
      limit: 'concurrency',
      awsRequestId: 'req-impatient',
      attempts: expect.any(Number),
    })
    expect(impatient.events[1]!.attempts).toBeGreaterThan(1)

    const patient = recorder(name)
    const waiting = guardedHandler(patient.options)({}, context('req-patient'))
    await until(() => patient.events.length > 0)
    release()
    await Promise.all([holding, waiting])
    expect(patient.types()).toEqual(['wait', 'acquire', 'return'])
    expect(patient.events[0]).toMatchObject({ limit: 'concurrency', awsRequestId: 'req-patient' })
  })

  it('expire: a release that finds its lease already expired', async () => {
    const name = uniqueName('expired')
    const { events, options } = recorder(name, { leaseMarginMs: 0, marginMs: 0 })
    const handler = guardedHandler(options, async () => {
      // The lease lasts the 300 ms of remaining time; the handler outlives it.
      await until(async () => (await leases(name)) === 0)
      return undefined
    })
    await handler({}, context('req-late', 300))
    expect(events.map((event) => event.type)).toEqual(['acquire', 'expire'])
    expect(events[1]).toMatchObject({ reason: 'late-release', awsRequestId: 'req-late' })
  })

  it('Redis unreachable: throttle (closed) or error (failOpen), with the cause and no secret', async () => {
    const down = `redis://:${secret}@127.0.0.1:${await freePort()}`
    const closed = recorder(uniqueName('down'), { redis: { url: down }, redisTimeoutMs: 300 })
    await guardedHandler(closed.options)({}, context('req-down')).catch(() => undefined)
    expect(closed.events.at(-1)).toMatchObject({
      type: 'throttle',
      limit: 'unavailable',
      error: expect.objectContaining({ name: expect.any(String) }),
    })
    const open = recorder(uniqueName('down-open'), {
      redis: { url: down },
      redisTimeoutMs: 300,
      failOpen: true,
    })
    await guardedHandler(open.options)({}, context('req-open'))
    expect(open.events.at(-1)).toMatchObject({ type: 'error', reason: 'fail-open', limit: 'unavailable' })
    expect(JSON.stringify([...closed.events, ...open.events])).not.toContain(secret)
  })

  it('a release Redis does not answer: an error event, and the lease is left to expire', async () => {
    const own = await RedisServer.start()
    try {
      const { types, events, options } = recorder(uniqueName('lost'), {
        redis: { url: own.url },
        redisTimeoutMs: 300,
      })
      const handler = guardedHandler(options, async () => {
        await own.stop()
        return undefined
      })
      await handler({}, context('req-lost'))
      expect(types()).toEqual(['acquire', 'error'])
      expect(events[1]).toMatchObject({
        reason: 'release',
        awsRequestId: 'req-lost',
        error: expect.any(Object),
      })
    } finally {
      await own.dispose()
    }
  })

  it('reach node:diagnostics_channel, on the lifecycle channel and their own', async () => {
    const all: LifecycleEvent[] = []
    const acquired: LifecycleEvent[] = []
    const onAll = (message: unknown) => all.push(message as LifecycleEvent)
    const onAcquire = (message: unknown) => acquired.push(message as LifecycleEvent)
    diagnostics.subscribe(lifecycleChannelName, onAll)
    diagnostics.subscribe(`${lifecycleChannelName}:acquire`, onAcquire)
    unsubscribes.push(
      () => diagnostics.unsubscribe(lifecycleChannelName, onAll),
      () => diagnostics.unsubscribe(`${lifecycleChannelName}:acquire`, onAcquire),
    )
    const name = uniqueName('channel')
    await guardedHandler({ name, redis: { url: url() }, concurrency: 1 })({}, context('req-channel'))
    const mine = all.filter((event) => event.key === name)
    expect(mine.map((event) => event.type)).toEqual(['acquire', 'return'])
    expect(acquired.filter((event) => event.key === name)).toEqual([
      expect.objectContaining({ awsRequestId: 'req-channel', functionName: 'test-function' }),
    ])
    expect(JSON.stringify(mine)).not.toContain(secret)
  })
})
