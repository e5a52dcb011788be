import { type EventSink, warnOnce } from '@middy-downstream/core'
import { packageName } from './options.js'
import type { KeepaliveStats } from './stats.js'
import type { Invocation, InvocationTracker } from './unread-bodies.js'

// The invocation of callers that pass none (scripts, tests without Middy).
const anyInvocation: Invocation = {}

const unreadBodyWarning =
  `${packageName}: a response body was never read, so its socket could not go back to the pool; ` +
  'it was destroyed at the end of the invocation (a new connection will be needed). Read every ' +
  'body (e.g. await Body.transformToString()) or call Body.destroy() when you do not need it ' +
  '(this warning is shown once per environment)'

interface CycleParts {
  thawThresholdMs: number
  stats: KeepaliveStats
  events: EventSink
  invocations: InvocationTracker
  dropIdleSockets(): number
}

/**
 * What the resources do when an invocation begins and ends: thaw hygiene at the beginning, the
 * idle clock and the sockets of unread bodies at the end.
 */
export const createInvocationCycle = ({
  thawThresholdMs,
  stats,
  events,
  invocations,
  dropIdleSockets,
}: CycleParts) => {
  let lastActivity = Date.now()

  const destroyUnreadBodies = (invocation: Invocation, result?: unknown): void => {
    const count = invocations.destroyUnreadBodies(result)
    if (count === 0) return
    stats.unreadBodiesDestroyed += count
    const { awsRequestId } = invocation
    events.emit({ type: 'close', reason: 'unread-body', count, ...(awsRequestId ? { awsRequestId } : {}) })
    warnOnce(`${packageName}:unread-body`, unreadBodyWarning)
  }

  const beginInvocation = (invocation: Invocation = anyInvocation): number => {
    // What an invocation that ended early (Middy skips `after`) left unread nobody can read now.
    destroyUnreadBodies(anyInvocation)
    invocations.begin(invocation)
    const now = Date.now()
    const idleFor = now - lastActivity
    lastActivity = now
    if (idleFor <= thawThresholdMs) return 0
    const dropped = dropIdleSockets()
    stats.thaws += 1
    stats.idleSocketsDropped += dropped
    return dropped
  }

  const endInvocation = (invocation: Invocation = anyInvocation, result?: unknown): void => {
    lastActivity = Date.now()
    invocations.end(invocation)
    destroyUnreadBodies(invocation, result)
  }

  return { beginInvocation, endInvocation }
}
