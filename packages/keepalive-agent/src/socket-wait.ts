import type http from 'node:http'
import type { ClientRequest } from 'node:http'
import { packageName } from './options.js'

/** A request the agent queued because every socket to its origin was in use. */
interface SocketWait {
  since: number
  origin: string
  maxSockets: number
}

// Keyed by the request's headers object: Node passes the options it got (headers included, by
// reference) to `Agent#addRequest`, and the SDK's request handler builds those options from its
// `HttpRequest`, so the handler can find the wait of the request it sent. A WeakMap: nothing is
// kept once the request is gone.
const waits = new WeakMap<object, SocketWait>()

interface RequestOptions {
  headers?: unknown
  host?: unknown
  hostname?: unknown
  port?: unknown
}

/** Requests queued by the agent, all origins: a handful of origins, whatever the queues' length. */
const queued = (agent: http.Agent): number => {
  let total = 0
  for (const name in agent.requests) total += agent.requests[name]?.length ?? 0
  return total
}

/**
 * Calls `addRequest` and notes whether the agent queued the request (no free socket and
 * `maxSockets` reached) until it gets a socket. Counted before and after: the name of the queue
 * is computed by Node from options merged with the agent's own, which is not ours to repeat.
 */
export const addRequestNotingWait = (
  agent: http.Agent,
  request: ClientRequest,
  options: RequestOptions,
  addRequest: () => void,
): void => {
  const queuedBefore = queued(agent)
  addRequest()
  const headers = options.headers
  if (queued(agent) <= queuedBefore || typeof headers !== 'object' || headers === null) return
  waits.set(headers, {
    since: Date.now(),
    origin: `${String(options.hostname ?? options.host ?? 'localhost')}:${String(options.port ?? '')}`,
    maxSockets: agent.maxSockets,
  })
  request.once('socket', () => waits.delete(headers))
}

/**
 * When the request with these headers failed with a timeout while it was still waiting for a free
 * socket, the error to throw instead: the SDK's own message blames establishing a connection,
 * which never started. Keeps the name `TimeoutError` (the SDK's retry strategy reads it) and the
 * original as `cause`.
 */
export const socketWaitError = (headers: unknown, error: unknown): Error | undefined => {
  if ((error as { name?: unknown } | null)?.name !== 'TimeoutError') return undefined
  if (typeof headers !== 'object' || headers === null) return undefined
  const wait = waits.get(headers)
  if (!wait) return undefined
  waits.delete(headers)
  const message =
    `${packageName}: the request waited ${Date.now() - wait.since} ms for a free socket to ${wait.origin} ` +
    `and got none: all ${wait.maxSockets} sockets of the pool (maxSockets) were in use. ` +
    'A response body that is never read keeps its socket: read every body, or call its destroy() ' +
    'when you do not need it; or raise maxSockets.'
  const reworded = new Error(message, { cause: error })
  reworded.name = 'TimeoutError'
  return reworded
}
