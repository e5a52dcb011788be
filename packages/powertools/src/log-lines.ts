import type { LifecycleEvent } from '@middy-downstream/core'

/** The levels the adapter writes at. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/**
 * The level of an event: routine work at `routineLevel`, what degrades an invocation (a retry, a
 * dead client, a socket destroyed because a body was never read, a permit refused for good, a
 * lease that expired before its holder gave it back) at `warn`, a failure at `error`. Waiting for
 * a permit is the guard doing its job: `info`.
 */
export const levelOf = (event: LifecycleEvent, routineLevel: LogLevel): LogLevel => {
  switch (event.type) {
    case 'error':
      return 'error'
    case 'retry':
      return 'warn'
    case 'validate':
      return event.ok === false ? 'warn' : routineLevel
    case 'release':
    case 'close':
      return event.action === 'destroy' || event.reason === 'unread-body' ? 'warn' : routineLevel
    case 'reap':
      return (event.count ?? 0) > 0 ? 'info' : routineLevel
    case 'throttle':
    case 'expire':
      return 'warn'
    case 'wait':
      return 'info'
    default:
      return routineLevel
  }
}

const describe = (event: LifecycleEvent): string => {
  switch (event.type) {
    case 'open':
      return 'connection opened'
    case 'reuse':
      return 'connection reused'
    case 'validate':
      return event.ok === false
        ? 'connection failed its check after idle; replaced'
        : 'connection checked after idle'
    case 'retry':
      return `attempt ${event.attempt ?? '?'} failed; retrying in ${event.delayMs ?? '?'} ms`
    case 'release':
      return `connection released: ${event.action ?? 'keep'}`
    case 'close':
      return event.reason === 'unread-body'
        ? `${event.count ?? 1} socket(s) held by unread response bodies destroyed`
        : 'connection closed'
    case 'reap':
      return `${event.count ?? 0} idle connection(s) reaped`
    case 'error':
      return `failed: ${event.error?.name ?? 'Error'}`
    case 'acquire':
      return `permit for ${event.key} acquired after ${event.durationMs ?? 0} ms`
    case 'wait':
      return `waiting for a permit for ${event.key}: its ${event.limit ?? ''} limit is reached`
    case 'throttle':
      return `no permit for ${event.key} (${event.limit ?? '?'}) after ${event.durationMs ?? 0} ms: throttled`
    case 'return':
      return `permit for ${event.key} given back after ${event.durationMs ?? 0} ms`
    case 'expire':
      return `permit for ${event.key} had expired before its release, after ${event.durationMs ?? 0} ms: the lease was shorter than the work`
    default:
      return event.type
  }
}

/** The message of the log line, e.g. `@middy-downstream/db-connection: connection opened`. */
export const messageOf = (event: LifecycleEvent): string => `${event.package}: ${describe(event)}`
