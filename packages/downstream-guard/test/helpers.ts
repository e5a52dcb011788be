import { afterAll, beforeAll } from '@jest/globals'
import middy, { type MiddlewareObj } from '@middy/core'
import { type RedisOptions, RedisServer } from '@middy-downstream/testing'
import type { Context } from 'aws-lambda'
import { downstreamGuard, type GuardContext, type GuardOptions } from '../src/index.js'

export type GuardedContext = Context & GuardContext

/** A guarded Middy handler whose body is `work`; answers with the permit as the handler saw it. */
export const guardedHandler = (
  options: GuardOptions,
  work: (event: unknown, context: GuardedContext) => Promise<unknown> = async () => undefined,
  after: MiddlewareObj[] = [],
) =>
  // Middy's own early timeout is off: these tests let handlers outlive their clock on purpose.
  middy<unknown, unknown, Error, Context>({ timeoutEarlyInMillis: 0 })
    .use(downstreamGuard(options))
    .use(after)
    .handler(async (event, context) => {
      const result = await work(event, context)
      return result ?? { ...context.guard }
    }) as unknown as (event: unknown, context: Context) => Promise<unknown>

/** Resolves once `check` holds, polling; rejects after `timeoutMs`. */
export const until = async (check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> => {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

let counter = 0
/** A downstream name no other test of the file uses. */
export const uniqueName = (label: string): string => `${label}-${process.pid}-${++counter}`

/** How many members one of a downstream's sorted sets has (`leases`, `waiters`), read with redis-cli. */
export const countOf = async (
  redis: RedisServer,
  name: string,
  set: 'leases' | 'waiters' = 'leases',
): Promise<number> => Number(await redis.cli('ZCARD', `middy-downstream:guard:{${name}}:${set}`))

/** A private Redis for the file: started before its tests, disposed after them. */
export const privateRedis = (options?: RedisOptions): { readonly server: RedisServer } => {
  const holder: { server: RedisServer } = { server: undefined as unknown as RedisServer }
  beforeAll(async () => {
    holder.server = await RedisServer.start(options)
  })
  afterAll(async () => {
    await holder.server?.dispose()
  })
  return holder
}
