import type { MiddlewareObj, Request } from '@middy/core'
import { invocationIdsOf } from './context.js'
import { Deadline } from './deadline.js'
import { describeError, type EventSink } from './events.js'

/** What a backend does for one invocation: the handle put on the context, and its cleanup. */
export interface ScopeHooks<THandle> {
  /** The handle for `context[contextKey]`; when absent, the result of `acquire()` is the handle. */
  handle?: THandle
  /**
   * Opens (or validates) the client now; used when the middleware is eager or has no lazy handle.
   * Returns the handle, or a promise of it: a client at hand is returned as is, without a turn.
   */
  acquire(): unknown
  /**
   * Cleans up after the invocation, once; `outcome` says whether the handler threw. Returns a
   * promise only when there is something to wait for; a throw or a rejection is reported as an
   * `error` event, never to the handler.
   */
  release(outcome: 'success' | 'error'): Promise<void> | undefined
}

export interface ManagedMiddlewareSpec<THandle> {
  /** Middy middleware name. */
  name: string
  contextKey: string
  events: EventSink
  /** Milliseconds kept back from the invocation's remaining time, to answer before Lambda's timeout. */
  marginMs: number
  /** Open in `before` instead of on first use. */
  eager: boolean
  /** Starts one invocation's scope; no I/O. `ids` names the invocation for events and errors. */
  begin(
    request: Request,
    deadline: Deadline,
    ids: { awsRequestId?: string; functionName?: string },
  ): ScopeHooks<THandle>
}

interface OpenScope {
  request: Request
  hooks: ScopeHooks<unknown>
  deadline: Deadline
}

/**
 * Builds a Middy middleware around an invocation scope, so every connection package handles
 * the invocation the same way: the handle goes on `context[contextKey]` in `before`, and the
 * scope is released exactly once on every path:
 * - `after` and `onError`;
 * - an early response (another middleware returned from `before`, `after` or `onError`, so Middy
 *   skipped ours): released when the environment's next invocation begins, since that request is
 *   finished. Under Managed Instances other invocations still running are never touched;
 * - a request that never ended for us (a context without a clock included): released once its
 *   Lambda timeout has passed.
 * Cleanup never throws into the handler's result; failures are reported as `error` events.
 *
 * Open scopes are kept per Middy request object rather than in `request.internal`: Middy shares
 * one `internal` object between requests when its `internal` plugin option is given. They are
 * few (one at a time on Lambda), so a list: a Map keyed by a new request every invocation hashes
 * it and grows and shrinks its table each time.
 */
export const createManagedMiddleware = <THandle>(spec: ManagedMiddlewareSpec<THandle>): MiddlewareObj => {
  const open: OpenScope[] = []

  const releaseFailed = (error: unknown) =>
    spec.events.emit({ type: 'error', reason: 'release', error: describeError(error) })

  /**
   * Releases the request's scope. Not async: a release with nothing to wait for (most) returns
   * nothing, and Middy 7 then skips the turns of awaiting a promise.
   */
  const finish = (request: Request, outcome: 'success' | 'error'): Promise<void> | undefined => {
    let index = open.length - 1
    while (index >= 0 && open[index]?.request !== request) index -= 1
    if (index < 0) return undefined
    const scope = open[index] as OpenScope
    const last = open.pop() as OpenScope
    if (index < open.length) open[index] = last
    try {
      return scope.hooks.release(outcome)?.catch(releaseFailed)
    } catch (error) {
      releaseFailed(error)
      return undefined
    }
  }

  /** Scopes whose request is over without reaching our `after`/`onError`. */
  const sweep = async () => {
    const now = Date.now()
    for (const { request, deadline } of [...open]) {
      const timedOut = deadline.bounded && now > deadline.expiresAt + spec.marginMs
      if ('earlyResponse' in request || timedOut) await finish(request, 'success')
    }
  }

  /** Opens the request's scope and puts its handle on the context; a promise only for an eager acquire. */
  const start = (request: Request): Promise<void> | undefined => {
    const deadline = Deadline.fromContext(request.context, spec.marginMs)
    const hooks = spec.begin(request, deadline, invocationIdsOf(request.context))
    open.push({ request, hooks: hooks as ScopeHooks<unknown>, deadline })
    const context = request.context as unknown as Record<string, unknown>
    const lazy = 'handle' in hooks
    if (lazy && !spec.eager) {
      context[spec.contextKey] = hooks.handle
      return undefined
    }
    const acquired = hooks.acquire()
    const put = (handle: unknown) => {
      context[spec.contextKey] = lazy ? hooks.handle : handle
    }
    if (acquired instanceof Promise) return acquired.then(put)
    put(acquired)
    return undefined
  }

  return {
    name: spec.name,
    // Not async, like `after`: Middy 7 awaits only what is a promise.
    before: (request) => (open.length > 0 ? sweep().then(() => start(request)) : start(request)),
    after: (request) => finish(request, 'success'),
    onError: (request) => finish(request, 'error'),
  }
}
