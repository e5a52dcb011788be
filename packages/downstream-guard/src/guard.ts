import type { MiddlewareObj, Request } from '@middy/core'
import { createManagedMiddleware, EventSink } from '@middy-downstream/core'
import { ThrottledError } from './errors.js'
import { type GuardOptions, packageName, resolveSettings } from './options.js'
import { type PermitInfo, PermitScope } from './permit-scope.js'
import { PermitKeys } from './permits.js'
import { throttledResponse } from './throttled-response.js'

/**
 * What the middleware adds to the context: the permit under `contextKey` (default `guard`).
 *
 * @example
 * const handler = middy().use(downstreamGuard({ name, redis, concurrency: 5 })).handler(async (event, context) => context.guard.waitedMs)
 */
export type GuardContext<K extends string = 'guard'> = { [P in K]: PermitInfo }

/** The middleware's type: Middy's `.use()` adds `context[contextKey]` to the handler's context type. */
export type DownstreamGuardMiddleware<K extends string> = MiddlewareObj<
  unknown,
  unknown,
  Error,
  Request['context'] & GuardContext<K>
>

/**
 * Middy middleware: takes a permit for a named downstream before the handler and gives it back
 * after it (also after an error, and after an early return at the latest when the environment's
 * next invocation begins); with `lazy: true`, only around each block the handler marks with
 * `context.guard.run(block)`. Permits are leases in Redis shared by every function of the fleet that
 * guards the same name: at most `concurrency` held at once, at most `rate` granted per second.
 * Without a permit in time the invocation answers for itself: a partial batch response for SQS,
 * Kinesis and DynamoDB Streams, 503 (429 for the rate) for API Gateway and function URLs, else a
 * `ThrottledError`.
 *
 * @example
 * import middy from '@middy/core'
 * import downstreamGuard from '@middy-downstream/downstream-guard'
 *
 * export const handler = middy()
 *   .use(downstreamGuard({ name: 'legacy-api', redis: { url: process.env.REDIS_URL }, concurrency: 10 }))
 *   .handler(async (event) => callLegacyApi(event))
 */
export const downstreamGuard = <K extends string = 'guard'>(
  options: GuardOptions & { contextKey?: K },
): DownstreamGuardMiddleware<K> => {
  const { contextKey = 'guard', ...rest } = options ?? {}
  if (typeof contextKey !== 'string' || contextKey === '') {
    throw new TypeError(`${packageName}: option "contextKey" must be a non-empty string, e.g. "guard"`)
  }
  const settings = resolveSettings(options === undefined ? options : (rest as GuardOptions))
  const keys = new PermitKeys(settings.keyPrefix, settings.name, settings)
  const scopes = new WeakMap<object, PermitScope>()
  const events = new EventSink(packageName, settings.name)
  events.subscribe(settings.onEvent)
  const managed = createManagedMiddleware({
    name: 'downstream-guard',
    contextKey,
    events,
    marginMs: settings.marginMs,
    eager: !settings.lazy,
    begin: (request, deadline, ids) => {
      const scope = new PermitScope(settings, keys, events, request.context, deadline, ids)
      scopes.set(request.context, scope)
      return scope
    },
  })
  return {
    name: 'downstream-guard',
    before: async (request) => {
      try {
        await managed.before?.(request)
      } catch (error) {
        if (!(error instanceof ThrottledError)) throw error
        const response = throttledResponse(request.event, error, settings.batchThrottle)
        if (response === undefined) throw error
        // Middy skips after and onError on an early response: give the Redis client back now.
        await scopes.get(request.context)?.release()
        return response
      }
      return undefined
    },
    after: managed.after,
    onError: managed.onError,
  }
}
