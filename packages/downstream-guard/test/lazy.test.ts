import { describe, expect, it } from '@jest/globals'
import middy from '@middy/core'
import { ReleasedError } from '@middy-downstream/core'
import { fakeContext } from '@middy-downstream/testing'
import type { Context } from 'aws-lambda'
import { downstreamGuard, type GuardOptions, type PermitInfo, ThrottledError } from '../src/index.js'
import { countOf, type GuardedContext, guardedHandler, privateRedis, uniqueName, until } from './helpers.js'

const redis = privateRedis()
const leases = (name: string) => countOf(redis.server, name)
const lazy = (name: string, more: Partial<GuardOptions> = {}): GuardOptions => ({
  name,
  redis: { url: redis.server.url },
  concurrency: 1,
  lazy: true,
  ...more,
})

describe('lazy: a permit only around the blocks the handler marks', () => {
  it('takes none before the handler, one per block, and gives each back when the block ends', async () => {
    const name = uniqueName('blocks')
    const seen: number[] = []
    const handler = guardedHandler(lazy(name), async (_event, context) => {
      seen.push(await leases(name))
      const inside = await context.guard.run(async () => leases(name))
      seen.push(inside, await leases(name))
      seen.push(await context.guard.run(async () => leases(name)))
      return { ...context.guard }
    })
    const info = (await handler({}, fakeContext({ timeoutMs: 5000 }))) as PermitInfo
    expect(seen).toEqual([0, 1, 0, 1])
    expect(info.state).toBe('released')
    expect(await leases(name)).toBe(0)
  })

  it('gives the permit back when the block throws, and the error reaches the handler', async () => {
    const name = uniqueName('throws')
    const handler = guardedHandler(lazy(name), async (_event, context) => {
      const error = await context.guard
        .run(async () => {
          throw new Error('downstream said no')
        })
        .catch((e: unknown) => e)
      return { message: (error as Error).message, after: await leases(name) }
    })
    expect(await handler({}, fakeContext({ timeoutMs: 5000 }))).toEqual({
      message: 'downstream said no',
      after: 0,
    })
  })

  it('a block still running when the handler returns is given back by after', async () => {
    const name = uniqueName('dangling')
    let finish: () => void = () => {}
    const handler = guardedHandler(lazy(name, { leaseMarginMs: 60_000 }), async (_event, context) => {
      void context.guard.run(() => new Promise<void>((resolve) => (finish = resolve)))
      await until(async () => (await leases(name)) === 1)
      return { early: true }
    })
    expect(await handler({}, fakeContext({ timeoutMs: 5000 }))).toEqual({ early: true })
    expect(await leases(name)).toBe(0)
    finish()
  })

  it('a block running at Middy’s early timeout is given back by onError', async () => {
    const name = uniqueName('deadline')
    const handler = middy<unknown, unknown, Error, Context>({ timeoutEarlyInMillis: 400 })
      .use(downstreamGuard(lazy(name, { leaseMarginMs: 60_000, marginMs: 0 })))
      .handler(async (_event, context) =>
        (context as GuardedContext).guard.run(() => new Promise(() => {})),
      ) as unknown as (event: unknown, context: Context) => Promise<unknown>
    await expect(handler({}, fakeContext({ timeoutMs: 1000 }))).rejects.toThrow(/abort/i)
    expect(await leases(name)).toBe(0)
  })

  it('a block with no permit in time throws a ThrottledError; the handler answers for itself', async () => {
    const name = uniqueName('refused')
    let release: () => void = () => {}
    const holder = guardedHandler(lazy(name), async (_event, context) =>
      context.guard.run(() => new Promise((resolve) => (release = () => resolve(undefined)))),
    )
    const holding = holder({}, fakeContext({ timeoutMs: 10_000 }))
    await until(async () => (await leases(name)) === 1)
    const impatient = guardedHandler(lazy(name, { maxWaitMs: 0 }), async (_event, context) => {
      const error = await context.guard.run(async () => 'never').catch((e: unknown) => e)
      return { error, state: context.guard.state }
    })
    const { error, state } = (await impatient({}, fakeContext({ timeoutMs: 5000 }))) as {
      error: ThrottledError
      state: string
    }
    expect(error).toBeInstanceOf(ThrottledError)
    expect(error.limit).toBe('concurrency')
    expect(state).toBe('refused')
    release()
    await holding
    expect(await leases(name)).toBe(0)
  })

  it('a block after the invocation ended fails at once with ReleasedError and takes nothing', async () => {
    const name = uniqueName('late')
    let guard: PermitInfo | undefined
    const handler = guardedHandler(lazy(name), async (_event, context) => {
      guard = context.guard
      return undefined
    })
    await handler({}, fakeContext({ timeoutMs: 5000 }))
    let ran = false
    await expect(
      guard!.run(async () => {
        ran = true
      }),
    ).rejects.toBeInstanceOf(ReleasedError)
    expect(ran).toBe(false)
    expect(await leases(name)).toBe(0)
  })

  it('without lazy, run uses the invocation’s permit and takes no other', async () => {
    const name = uniqueName('eager')
    const handler = guardedHandler({ ...lazy(name), lazy: false }, async (_event, context) =>
      context.guard.run(async () => leases(name)),
    )
    expect(await handler({}, fakeContext({ timeoutMs: 5000 }))).toBe(1)
    expect(await leases(name)).toBe(0)
  })
})
