import middy, { type MiddlewareObj } from '@middy/core'
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
