import type { MiddlewareObj, Request } from '@middy/core'
import { Deadline } from './deadline.js'
import { describeError, type EventSink } from './events.js'

/** What a backend does for one invocation: the handle put on the context, and its cleanup. */
export interface InvocationScope<THandle> {
  handle: THandle
  /** Opens (or validates) the client now; used when the middleware is eager. */
  acquire(): Promise<unknown>
  /** Cleans up after the invocation; `outcome` says whether the handler threw. */
  release(outcome: 'success' | 'error'): Promise<void>
  /**
   * True once the invocation cannot be running any more: its Lambda deadline has passed. Only
   * then is a scope that never reached `after` (an early return) released by a later invocation.
   */
  over(): boolean
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
  begin(request: Request, deadline: Deadline): InvocationScope<THandle>
}

/**
 * Builds a Middy middleware around an invocation scope: the handle goes on `context[contextKey]`
 * in `before`, and the scope is released in `after` and `onError`. Cleanup never throws into the
 * handler's result; failures are reported as `error` events. A scope left behind by an early
 * return (Middy skips `after` then) is released at the start of the next invocation, as soon as it
 * is idle.
 *
 * @example
 * export const myMiddleware = (options) => createManagedMiddleware({ name: 'my', contextKey: 'my', ... })
 */
export const createManagedMiddleware = <THandle>(spec: ManagedMiddlewareSpec<THandle>): MiddlewareObj => {
  const open = new Map<object, InvocationScope<THandle>>()

  const finish = async (key: object, outcome: 'success' | 'error') => {
    const scope = open.get(key)
    if (!scope) return
    open.delete(key)
    try {
      await scope.release(outcome)
    } catch (error) {
      spec.events.emit({ type: 'error', reason: 'release', error: describeError(error) })
    }
  }

  const keyOf = (request: Request): object =>
    typeof request.context === 'object' && request.context !== null ? request.context : request

  return {
    name: spec.name,
    before: async (request) => {
      for (const [key, scope] of open) if (scope.over()) await finish(key, 'success')
      const scope = spec.begin(request, Deadline.fromContext(request.context, spec.marginMs))
      const key = keyOf(request)
      open.set(key, scope)
      ;(request.context as unknown as Record<string, unknown>)[spec.contextKey] = scope.handle
      if (spec.eager) await scope.acquire()
    },
    after: (request) => finish(keyOf(request), 'success'),
    onError: (request) => finish(keyOf(request), 'error'),
  }
}
