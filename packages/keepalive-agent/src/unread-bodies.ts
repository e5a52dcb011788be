import type { ClientRequest, IncomingMessage } from 'node:http'

/**
 * One invocation as the resources see it: passed to `beginInvocation` and, the same object, to
 * `endInvocation`.
 *
 * @example
 * const invocation: Invocation = { awsRequestId: context.awsRequestId }
 * resources.beginInvocation(invocation)
 * try { await work() } finally { resources.endInvocation(invocation) }
 */
export interface Invocation {
  /** Put on the events about it. */
  readonly awsRequestId?: string
  /** Whether it ended without `endInvocation` (Middy's early response skips `after`). */
  isOver?(): boolean
}

/** Whether anyone reads or has read the body: a pipe, a `data` or `readable` listener. */
const isUnread = (body: IncomingMessage): boolean =>
  !body.readableEnded &&
  !body.destroyed &&
  body.readableFlowing !== true &&
  body.listenerCount('readable') === 0

/** Whether `value` is the body, or a stream around it (the SDK's checksum stream keeps it as `source`). */
const isOrWraps = (value: unknown, body: IncomingMessage): boolean =>
  value === body ||
  (typeof value === 'object' && value !== null && (value as { source?: unknown }).source === body)

/** Whether the handler's result is the body, or holds it in a field (a streamed HTTP response). */
const isReturned = (body: IncomingMessage, result: unknown): boolean =>
  isOrWraps(result, body) ||
  (typeof result === 'object' && result !== null && Object.values(result).some((v) => isOrWraps(v, body)))

/**
 * Destroys a body nobody will read, and with it its socket. A stream around it (the SDK's checksum
 * stream) listens for its `close` and would turn it into an `error` that nobody handles, which
 * crashes the process: those listeners belong to an invocation that is over, so they go first.
 * Destroyed without an error, for the same reason.
 */
const destroyBody = (body: IncomingMessage): void => {
  body.removeAllListeners('close')
  body.destroy()
}

/**
 * Remembers which invocations were running when each request went out. Node returns a keep-alive
 * socket to the pool only once its response body has been read to the end, so a body nobody reads
 * (a `GetObject` whose `Body` was ignored) holds its socket for as long as the process lives, and
 * a few such invocations exhaust `maxSockets`. Once every invocation that could read a body has
 * ended, no one will: its socket is destroyed. Requests made outside any invocation (at module
 * load, without `beginInvocation`) are not tracked.
 */
export class InvocationTracker {
  // An array, not a Set: it holds one invocation (a few under Managed Instances), and a Set that
  // sees a new object added and deleted on every invocation costs microseconds in rehashing.
  private readonly running: Invocation[] = []
  private readonly owners = new Map<ClientRequest, Invocation[]>()

  begin(invocation: Invocation): void {
    if (!this.running.includes(invocation)) this.running.push(invocation)
  }

  end(invocation: Invocation): void {
    const index = this.running.indexOf(invocation)
    if (index >= 0) this.running.splice(index, 1)
  }

  /** Called by the agents for every request. */
  track(request: ClientRequest): void {
    if (this.running.length === 0) return
    this.owners.set(request, [...this.running])
    request.once('close', () => this.owners.delete(request))
  }

  /**
   * Destroys the response (and so the socket) of every request whose invocations have all ended and
   * whose body nobody has read, except a body that is part of `result`; returns how many.
   */
  destroyUnreadBodies(result?: unknown): number {
    for (let i = this.running.length - 1; i >= 0; i--)
      if (this.running[i]!.isOver?.()) this.running.splice(i, 1)
    if (this.owners.size === 0) return 0
    let destroyed = 0
    for (const [request, owners] of this.owners) {
      const body = (request as ClientRequest & { res?: IncomingMessage | null }).res
      if (!body || !isUnread(body) || isReturned(body, result)) continue
      if (owners.some((owner) => this.running.includes(owner))) continue
      this.owners.delete(request)
      destroyBody(body)
      destroyed += 1
    }
    return destroyed
  }
}
