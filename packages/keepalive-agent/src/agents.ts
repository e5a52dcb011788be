import type { ClientRequest } from 'node:http'
import http from 'node:http'
import https from 'node:https'
import type { Duplex } from 'node:stream'
import { isResetError } from './reset.js'
import { addRequestNotingWait } from './socket-wait.js'
import type { KeepaliveStats } from './stats.js'
import type { InvocationTracker } from './unread-bodies.js'

/** Errors of requests that were sent on a reused keep-alive socket which was then reset. */
const resetsOnReusedSockets = new WeakSet<object>()

/**
 * Whether `error` is a reset (ECONNRESET, EPIPE) of a request that went out on a reused idle
 * socket of one of this package's agents: the server or a middlebox had closed the socket while
 * it sat idle, so the request never reached the application and can be sent again.
 *
 * @example
 * try { await s3.send(command) } catch (error) { if (isResetOfReusedSocket(error)) retryOnce() }
 */
export const isResetOfReusedSocket = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && resetsOnReusedSockets.has(error)

const freedAt = Symbol('keepalive-agent.freedAt')
type PooledSocket = Duplex & { [freedAt]?: number; timeout?: number }

/** Node's `Agent#addRequest`: not in the typings, but what `http.request` calls on an agent. */
interface AgentInternals {
  addRequest(request: ClientRequest, options: unknown, ...legacy: unknown[]): void
}

const freeSocketsOf = (agent: http.Agent): PooledSocket[] =>
  Object.values(agent.freeSockets).flatMap((list) => (list ?? []) as PooledSocket[])

/** Destroys every idle socket of the agent; returns how many there were. */
const dropFree = (agent: http.Agent): number => {
  let dropped = 0
  for (const socket of freeSocketsOf(agent)) {
    if (socket.destroyed) continue
    socket.destroy()
    dropped += 1
  }
  return dropped
}

/**
 * Destroys idle sockets whose idle timeout has passed: the timer that would have closed them
 * cannot fire while the environment is frozen, and after a thaw the next request comes before it.
 */
const pruneExpired = (agent: http.Agent, now: number): number => {
  let pruned = 0
  for (const socket of freeSocketsOf(agent)) {
    const since = socket[freedAt]
    const timeout = socket.timeout ?? 0
    if (socket.destroyed || since === undefined || timeout <= 0 || now - since < timeout) continue
    socket.destroy()
    pruned += 1
  }
  return pruned
}

/** Destroys idle sockets freed at or before `since` (idle at least as long); returns how many. */
const dropIdleSince = (agent: http.Agent, since: number): number => {
  let dropped = 0
  for (const socket of freeSocketsOf(agent)) {
    const freed = socket[freedAt]
    if (socket.destroyed || freed === undefined || freed > since) continue
    socket.destroy()
    dropped += 1
  }
  return dropped
}

/**
 * Watches a request sent on a reused socket. When it is reset, the error is marked (so the
 * request handler may send it again) and every idle socket that has been idle at least as long is
 * destroyed: whatever dropped this one (the server's idle timeout, a NAT) dropped those too, and
 * the retry must not land on one of them. Keeps Node's behaviour for an unhandled error.
 */
const watchReusedSocket = (
  agent: http.Agent,
  socket: PooledSocket,
  request: ClientRequest,
  stats: KeepaliveStats | undefined,
) => {
  const idleSince = socket[freedAt]
  request.once('error', (error: Error) => {
    if (isResetError(error)) {
      resetsOnReusedSockets.add(error)
      if (idleSince !== undefined) {
        const dropped = dropIdleSince(agent, idleSince)
        if (stats) stats.idleSocketsDropped += dropped
      }
    }
    // Without other listeners the request would have thrown: so must we.
    if (request.listenerCount('error') === 0) throw error
  })
}

/**
 * What this package's agents add to Node's: dropping idle sockets on demand.
 *
 * @example
 * const agent: HygienicAgent = createHttpResources().httpsAgent
 * agent.dropIdleSockets() // e.g. after a long pause
 */
export interface HygienicAgent {
  /** Destroys every idle socket; returns how many there were. In-flight requests are not touched. */
  dropIdleSockets(): number
  /** Destroys idle sockets that outlived their idle timeout; returns how many. */
  pruneExpiredSockets(now?: number): number
}

// biome-ignore lint/suspicious/noExplicitAny: a mixin's constructors must take any arguments
type Constructor<T> = new (...args: any[]) => T
type AgentConstructor = Constructor<http.Agent>

/**
 * The mixin's result, declared: left to inference, the emitted .d.ts spelled out every member of
 * http.Agent, including `[EventEmitter.captureRejectionSymbol]` with no import of EventEmitter,
 * which fails to compile for any user without `skipLibCheck`.
 */
type WithHygiene<TBase extends AgentConstructor> = TBase &
  Constructor<HygienicAgent & { stats?: KeepaliveStats; invocations?: InvocationTracker }>

/**
 * Adds the hygiene to an agent class (http or https): idle sockets never outlive their idle
 * timeout, not even across a freeze, and a reset of a reused socket is recognisable.
 */
const withHygiene = <TBase extends AgentConstructor>(Base: TBase): WithHygiene<TBase> =>
  class extends Base implements HygienicAgent {
    stats?: KeepaliveStats
    /**
     * Which invocations each request belongs to, so unread bodies can be dropped at release.
     * @internal
     */
    invocations?: InvocationTracker

    override keepSocketAlive(socket: Duplex): boolean {
      const keep = super.keepSocketAlive(socket) as unknown as boolean
      ;(socket as PooledSocket)[freedAt] = Date.now()
      return keep
    }

    override reuseSocket(socket: Duplex, request: ClientRequest): void {
      super.reuseSocket(socket, request)
      watchReusedSocket(this, socket as PooledSocket, request, this.stats)
    }

    addRequest(request: ClientRequest, options: unknown, ...legacy: unknown[]): void {
      const pruned = pruneExpired(this, Date.now())
      if (pruned > 0 && this.stats) this.stats.expiredSocketsPruned += pruned
      this.invocations?.track(request)
      addRequestNotingWait(this, request, options as object, () =>
        (Base.prototype as unknown as AgentInternals).addRequest.call(this, request, options, ...legacy),
      )
    }

    dropIdleSockets(): number {
      return dropFree(this)
    }

    pruneExpiredSockets(now = Date.now()): number {
      return pruneExpired(this, now)
    }
  }

/**
 * Node's `http.Agent` with keep-alive, whose idle sockets never outlive their idle timeout,
 * not even across a freeze, and whose reset reused sockets are recognisable.
 *
 * @example
 * const agent = new KeepaliveHttpAgent({ keepAlive: true, maxSockets: 256, timeout: 30_000 })
 * http.get('http://example.com', { agent })
 */
export class KeepaliveHttpAgent extends withHygiene(http.Agent) {
  constructor(options: http.AgentOptions, stats?: KeepaliveStats) {
    super(options)
    this.stats = stats
  }
}

/**
 * Node's `https.Agent` with keep-alive, whose idle sockets never outlive their idle timeout,
 * not even across a freeze, and whose reset reused sockets are recognisable.
 *
 * @example
 * const agent = new KeepaliveHttpsAgent({ keepAlive: true, maxSockets: 256, timeout: 30_000 })
 * https.get('https://example.com', { agent })
 */
export class KeepaliveHttpsAgent extends withHygiene(https.Agent) {
  constructor(options: https.AgentOptions, stats?: KeepaliveStats) {
    super(options)
    this.stats = stats
  }
}
