import type { EventEmitter } from 'node:events'
import type { Duplex } from 'node:stream'
import { Agent, Dispatcher } from 'undici'
import { isIdempotent, isReplayable, isResetError } from './reset.js'
import type { KeepaliveStats } from './stats.js'

type DispatchOptions = Dispatcher.DispatchOptions
type DispatchHandler = Dispatcher.DispatchHandler
type DispatchController = Dispatcher.DispatchController
type Headers = Parameters<NonNullable<DispatchHandler['onResponseStart']>>[2]

/**
 * How a `KeepaliveDispatcher` is built.
 *
 * @example
 * const options: KeepaliveDispatcherOptions = {
 *   agent: { connections: 256, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 30_000 },
 *   idleTimeoutMs: 30_000,
 *   retryOnReset: true,
 * }
 */
export interface KeepaliveDispatcherOptions {
  /** Options of each undici `Agent` the dispatcher runs on (`connections`, timeouts, `connect`). */
  agent: Agent.Options
  /**
   * When the dispatcher sat idle (nothing in flight) for longer than this, its idle connections
   * are closed before the next request: their keep-alive timers could not fire while frozen.
   */
  idleTimeoutMs: number
  /** Send an idempotent request again, once, when its connection is reset before any response. */
  retryOnReset: boolean
  /**
   * Where retries and dropped connections are counted.
   * @default none (not counted)
   */
  stats?: KeepaliveStats
}

/** What one dispatched request needs from its dispatcher. */
interface Dispatching {
  /**
   * Sends the request again on the current agent, once the failed connection has been cleaned
   * up; `failed` gets an error thrown by that dispatch.
   */
  resend(options: DispatchOptions, handler: DispatchHandler, failed: (error: Error) => void): void
  /** The request is done, one way or the other. */
  settled(): void
  /** May this failure be retried? Counts the retry when it may. */
  mayRetry(options: DispatchOptions, error: Error, responded: boolean): boolean
}

/**
 * Wraps a handler of undici's callback interface (`onConnect`, `onHeaders`, …: what `fetch` and
 * `request` of Node.js and undici pass) for one request: reports when it settles, and sends it
 * again once when its connection was reset before any response.
 */
class CallbackAttempt implements DispatchHandler {
  private abortCurrent?: (error?: Error) => void
  private connected = false
  private aborted?: Error
  private responded = false
  private retried = false
  private done = false

  constructor(
    private readonly downstream: DispatchHandler,
    private readonly options: DispatchOptions,
    private readonly owner: Dispatching,
  ) {}

  onConnect(abort: (error?: Error) => void, context?: unknown): void {
    this.abortCurrent = abort
    if (this.aborted) {
      abort(this.aborted)
      return
    }
    if (this.connected) return
    this.connected = true
    const abortAny = (error?: Error) => {
      this.aborted = error ?? new Error('aborted')
      this.abortCurrent?.(error)
    }
    ;(
      this.downstream.onConnect as ((abort: (error?: Error) => void, context?: unknown) => void) | undefined
    )?.call(this.downstream, abortAny, context)
  }

  onResponseStarted(): void {
    this.downstream.onResponseStarted?.()
  }

  onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    this.responded = true
    return this.downstream.onHeaders?.(statusCode, headers, resume, statusText) !== false
  }

  onData(chunk: Buffer): boolean {
    return this.downstream.onData?.(chunk) !== false
  }

  onComplete(trailers: string[] | null): void {
    this.settle()
    this.downstream.onComplete?.(trailers)
  }

  onUpgrade(statusCode: number, headers: Buffer[] | string[] | null, socket: Duplex): void {
    this.responded = true
    this.settle()
    this.downstream.onUpgrade?.(statusCode, headers, socket)
  }

  onBodySent(chunkSize: number, totalBytesSent: number): void {
    this.downstream.onBodySent?.(chunkSize, totalBytesSent)
  }

  onError(error: Error): void {
    if (!this.aborted && !this.retried && this.owner.mayRetry(this.options, error, this.responded)) {
      this.retried = true
      this.owner.resend(this.options, this, (sendError) => this.fail(sendError))
      return
    }
    this.fail(error)
  }

  private fail(error: Error): void {
    this.settle()
    if (!this.downstream.onError) throw error
    this.downstream.onError(error)
  }

  private settle(): void {
    if (this.done) return
    this.done = true
    this.owner.settled()
  }
}

/** The controller a downstream handler keeps across attempts; it follows the current one. */
class FollowingController implements DispatchController {
  private target?: DispatchController
  private isPaused = false
  private abortReason?: Error

  follow(target: DispatchController): void {
    this.target = target
    if (this.abortReason) target.abort(this.abortReason)
    else if (this.isPaused) target.pause()
  }

  get aborted(): boolean {
    return this.abortReason !== undefined || (this.target?.aborted ?? false)
  }

  get paused(): boolean {
    return this.isPaused || (this.target?.paused ?? false)
  }

  get reason(): Error | null {
    return this.abortReason ?? this.target?.reason ?? null
  }

  get abortedByDownstream(): boolean {
    return this.abortReason !== undefined
  }

  abort(reason: Error): void {
    this.abortReason = reason
    this.target?.abort(reason)
  }

  pause(): void {
    this.isPaused = true
    this.target?.pause()
  }

  resume(): void {
    this.isPaused = false
    this.target?.resume()
  }
}

/**
 * The same as `CallbackAttempt` for a handler of undici 7's controller interface
 * (`onRequestStart`, `onResponseStart`, …), e.g. one passed on by an interceptor.
 */
class ControllerAttempt implements DispatchHandler {
  private readonly controller = new FollowingController()
  private started = false
  private responded = false
  private retried = false
  private done = false

  constructor(
    private readonly downstream: DispatchHandler,
    private readonly options: DispatchOptions,
    private readonly owner: Dispatching,
  ) {}

  onRequestStart(controller: DispatchController, context: unknown): void {
    this.controller.follow(controller)
    if (this.started) return
    this.started = true
    this.downstream.onRequestStart?.(this.controller, context)
  }

  onRequestUpgrade(
    _controller: DispatchController,
    statusCode: number,
    headers: Headers,
    socket: Duplex,
  ): void {
    this.responded = true
    this.settle()
    this.downstream.onRequestUpgrade?.(this.controller, statusCode, headers, socket)
  }

  onResponseStart(
    _controller: DispatchController,
    statusCode: number,
    headers: Headers,
    statusMessage?: string,
  ): void {
    this.responded = true
    this.downstream.onResponseStart?.(this.controller, statusCode, headers, statusMessage)
  }

  onResponseData(_controller: DispatchController, chunk: Buffer): void {
    this.downstream.onResponseData?.(this.controller, chunk)
  }

  onResponseEnd(_controller: DispatchController, trailers: Headers): void {
    this.settle()
    this.downstream.onResponseEnd?.(this.controller, trailers)
  }

  onResponseError(_controller: DispatchController, error: Error): void {
    if (
      !this.controller.abortedByDownstream &&
      !this.retried &&
      this.owner.mayRetry(this.options, error, this.responded)
    ) {
      this.retried = true
      this.owner.resend(this.options, this, (sendError) => this.fail(sendError))
      return
    }
    this.fail(error)
  }

  private fail(error: Error): void {
    this.settle()
    this.downstream.onResponseError?.(this.controller, error)
  }

  private settle(): void {
    if (this.done) return
    this.done = true
    this.owner.settled()
  }
}

/**
 * Open connections with no request on them. Not the pools' `free`: a pool counts a connection as
 * free only an event-loop turn after its last response, and a thaw may come before that turn.
 */
const idleConnectionsOf = (agent: Agent): number => {
  let idle = 0
  for (const stats of Object.values(agent.stats)) {
    const connected = typeof stats.connected === 'boolean' ? Number(stats.connected) : stats.connected
    idle += Math.max(0, connected - stats.running - stats.pending)
  }
  return idle
}

/**
 * An undici dispatcher for `fetch` (and undici's `request`) on a keep-alive pool that can drop its
 * idle connections at once after a thaw, never reuses a connection that idled past its timeout
 * while frozen, and sends an idempotent request (no body, or a string/bytes body) once more on a
 * new connection when its connection was reset before any response.
 *
 * @example
 * const dispatcher = new KeepaliveDispatcher({
 *   agent: { connections: 256, keepAliveTimeout: 30_000 },
 *   idleTimeoutMs: 30_000,
 *   retryOnReset: true,
 * })
 * await fetch('https://example.com', { dispatcher })
 */
export class KeepaliveDispatcher extends Dispatcher {
  private agent: Agent
  private readonly retiring = new Set<Promise<void>>()
  private inFlight = 0
  private lastActivity = Date.now()
  private readonly dispatching: Dispatching

  constructor(private readonly settings: KeepaliveDispatcherOptions) {
    super()
    this.agent = this.newAgent()
    this.dispatching = {
      resend: (options, handler, failed) => {
        setImmediate(() => {
          try {
            this.agent.dispatch(options, handler)
          } catch (error) {
            failed(error as Error)
          }
        })
      },
      settled: () => {
        this.inFlight -= 1
        this.lastActivity = Date.now()
      },
      mayRetry: (options, error, responded) => {
        if (
          responded ||
          !this.settings.retryOnReset ||
          !isResetError(error) ||
          !isIdempotent(options.method) ||
          !isReplayable(options.body)
        ) {
          return false
        }
        // Whatever reset this connection may have dropped the other idle ones too: the retry must
        // not land on one of them.
        const dropped = this.dropIdleConnections()
        if (this.settings.stats) {
          this.settings.stats.retries += 1
          this.settings.stats.idleSocketsDropped += dropped
        }
        return true
      },
    }
  }

  /** Requests dispatched and not yet settled. */
  get pending(): number {
    return this.inFlight
  }

  /** Connections of the pool that are open and idle now. */
  get idleConnections(): number {
    return idleConnectionsOf(this.agent)
  }

  override dispatch(options: DispatchOptions, handler: DispatchHandler): boolean {
    const now = Date.now()
    if (this.inFlight === 0 && now - this.lastActivity > this.settings.idleTimeoutMs) {
      const dropped = this.dropIdleConnections()
      if (dropped > 0 && this.settings.stats) this.settings.stats.expiredSocketsPruned += dropped
    }
    this.inFlight += 1
    this.lastActivity = now
    const attempt =
      typeof handler.onRequestStart === 'function'
        ? new ControllerAttempt(handler, options, this.dispatching)
        : new CallbackAttempt(handler, options, this.dispatching)
    return this.agent.dispatch(options, attempt)
  }

  /**
   * Closes every idle connection (requests in flight finish on theirs) and returns how many there
   * were; the next request opens a new one.
   */
  dropIdleConnections(): number {
    const idle = idleConnectionsOf(this.agent)
    if (idle === 0) return 0
    const previous = this.agent
    this.agent = this.newAgent()
    const closing = previous.close().catch(() => {})
    this.retiring.add(closing)
    void closing.then(() => this.retiring.delete(closing))
    return idle
  }

  override close(): Promise<void>
  override close(callback: () => void): void
  override close(callback?: () => void): Promise<void> | void {
    const closed = Promise.all([this.agent.close(), ...this.retiring]).then(() => {})
    if (!callback) return closed
    void closed.then(callback)
  }

  override destroy(): Promise<void>
  override destroy(error: Error | null): Promise<void>
  override destroy(callback: () => void): void
  override destroy(error: Error | null, callback: () => void): void
  override destroy(
    errorOrCallback?: Error | null | (() => void),
    callback?: () => void,
  ): Promise<void> | void {
    const error = typeof errorOrCallback === 'function' ? null : (errorOrCallback ?? null)
    const done = typeof errorOrCallback === 'function' ? errorOrCallback : callback
    const destroyed = this.agent.destroy(error).then(() => {})
    if (!done) return destroyed
    void destroyed.then(done)
  }

  private newAgent(): Agent {
    const agent = new Agent(this.settings.agent)
    // Observers of this dispatcher see the connections of whichever agent it runs on.
    for (const event of ['connect', 'disconnect', 'connectionError'] as const) {
      ;(agent as EventEmitter).on(event, (origin: URL, targets: readonly Dispatcher[], error?: Error) =>
        (this as EventEmitter).emit(event, origin, [this, ...targets], error),
      )
    }
    return agent
  }
}
