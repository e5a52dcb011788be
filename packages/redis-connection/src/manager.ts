import {
  AuthenticationError,
  ClientPool,
  ConnectError,
  type ConnectionAdapter,
  ConnectionLostError,
  createBackoff,
  type Deadline,
  DeadlineError,
  DeadlineSet,
  DownstreamError,
  describeError,
  type EventSink,
  resolveSecret,
  withTimeout,
} from '@middy-downstream/core'
import type { ClusterOptions, RedisOptions } from 'ioredis'
import {
  isAuthError,
  isCommandTimeout,
  isConnectionError,
  isReplyError,
  scrubError,
  summary,
} from './errors.js'
import {
  type ClientInternals,
  type CommandInternals,
  conceal,
  describeEndpoint,
  forgetClosedStreams,
  internals,
  isDeadStream,
  streamsOf,
} from './internals.js'
import { type ClientSettings, packageName, type RedisClient } from './options.js'

/** A new connection attempt is not started with less time than this before the deadline. */
const MIN_ATTEMPT_MS = 50

/** Commands ioredis sends itself while a connection is being set up; they are left alone. */
const HANDSHAKE = new Set(['auth', 'hello', 'select', 'client', 'readonly', 'info', 'cluster'])

/**
 * Commands that leave session state on the connection, which the next invocation must not see:
 * tracked as they are sent (one set lookup per command) so only an invocation that used one pays
 * for a reset at release.
 */
const SESSION = new Set(['multi', 'exec', 'discard', 'watch', 'unwatch'])

const TRACKED = Symbol('redis-connection.tracked')
const REQUEUED = Symbol('redis-connection.requeued')

/** A command sent through the client and not yet settled. */
interface PendingCommand {
  command: CommandInternals
  client: ClientInternals
  /** Settles the command's promise directly (past any cluster redirection logic). */
  reject: (error: unknown) => void
  /** Whether it was written to a socket (so it may have run on the server). */
  written: boolean
  requeued: boolean
  /** Settled (answered, failed, or failed at the deadline): counted out of `inFlight` once. */
  done: boolean
  state: ClientState
}

/** What is known about one client's connection, for messages and decisions. */
class ClientState {
  lastError?: unknown
  /** Connection attempts since the last time the client was ready. */
  attempts = 0
  firstAttemptAt?: number
  /** A command went unanswered until a timeout: the connection's state is unknown. */
  stale = false
  /** Dropped by the pool: its late events no longer matter. */
  discarded = false
  /** Commands sent and not settled: the sockets are referenced only while this is above zero. */
  inFlight = 0
  /** A MULTI was sent without its EXEC or DISCARD: the server queues every later command. */
  inMulti = false
  /** A WATCH was sent without an EXEC, DISCARD or UNWATCH. */
  watching = false
  backoff = createBackoff({ strategy: 'decorrelated', baseMs: 50, capMs: 500 })

  constructor(readonly endpoint: string) {}

  ready(): void {
    this.lastError = undefined
    this.attempts = 0
    this.firstAttemptAt = undefined
    this.backoff = createBackoff({ strategy: 'decorrelated', baseMs: 50, capMs: 500 })
  }
}

const reconnectOnReadonly = (error: Error): 2 | false =>
  // After an ElastiCache/Redis failover the old primary answers writes with READONLY: reconnect
  // (the endpoint now names the new primary) and re-send, since the server refused to run it.
  error.message.startsWith('READONLY') ? 2 : false

/**
 * One environment's ioredis client for one config: the `ClientPool` (shared sharing) that
 * creates, validates and replaces it, and the hooks that make every command on it finish inside
 * the invocation's deadline whatever the network does.
 *
 * @example
 * const manager = registryGet(key, () => new RedisManager(settings, key, events))
 * const scope = new RedisScope(manager, Deadline.fromContext(context, 200), 'keep')
 */
export class RedisManager<TClient extends RedisClient = RedisClient> {
  readonly pool: ClientPool<TClient>
  /** The deadlines of the invocations using the client now. */
  readonly deadlines = new DeadlineSet()
  private readonly pending = new Set<PendingCommand>()
  private readonly states = new WeakMap<object, ClientState>()
  private deadlineTimer?: NodeJS.Timeout
  private readonly handshakeTimers = new WeakMap<ClientInternals, NodeJS.Timeout>()

  constructor(
    readonly settings: ClientSettings,
    readonly key: string,
    readonly events: EventSink,
  ) {
    const adapter: ConnectionAdapter<TClient> = {
      // The client object costs no I/O: ioredis connects on its first command.
      connect: async () => this.createClient(),
      ping: (client, _timeoutMs) =>
        internals(client).status === 'wait' ? Promise.resolve('PONG') : client.ping(),
      close: async (client) => {
        const c = internals(client)
        if (c.status !== 'ready') return this.destroy(client)
        // Resolves once the server has closed the socket too (core bounds this by closeTimeoutMs).
        const ended = new Promise((resolve) => c.once('end', resolve))
        await client.quit()
        await ended
      },
      destroy: (client) => this.destroy(client),
      reset: (client) => this.reset(client),
      isBroken: (client) => this.isBroken(client),
      classifyConnectError: () => 'fatal',
    }
    this.pool = new ClientPool<TClient>({
      packageName,
      adapter,
      events,
      sharing: 'shared',
      maxClients: 1,
      validateAfterIdleMs: settings.validateAfterIdleMs,
      validateTimeoutMs: settings.validateTimeoutMs,
      connectTimeoutMs: settings.connectTimeoutMs,
      closeTimeoutMs: settings.closeTimeoutMs,
      retry: { strategy: 'decorrelated', baseMs: 50, capMs: 500, maxAttempts: 1 },
    })
  }

  // ---- invocations ---------------------------------------------------------------------------

  /** An invocation starts using the client: its deadline bounds commands and reconnects. */
  enter(deadline: Deadline): void {
    this.deadlines.add(deadline)
    this.armDeadline()
  }

  leave(deadline: Deadline): void {
    this.deadlines.delete(deadline)
    this.armDeadline()
  }

  /** Why a client must not be kept after an invocation, or `undefined` when it is healthy. */
  problemAtRelease(client: TClient): string | undefined {
    const c = internals(client)
    if (this.stateOf(c).stale) return 'stale'
    if (c.status === 'wait') return undefined
    // Subscriptions and MONITOR own the connection (and listeners the handler added): a new one is
    // simpler and safer than unsubscribing from everything; it is rare.
    const mode = c.mode
    if (mode === 'subscriber' || mode === 'monitor') return mode
    if (c.status !== 'ready') return 'not-ready'
    return streamsOf(c).some(isDeadStream) ? 'connection-closed' : undefined
  }

  /**
   * Whether the invocation left session state the next one would see: an open MULTI, a WATCH, a
   * database other than the configured one (ioredis tracks the selected one). Read at release;
   * an ordinary invocation sends nothing for it.
   */
  needsReset(client: TClient): boolean {
    const c = internals(client)
    const state = this.stateOf(c)
    return state.inMulti || state.watching || this.selectedOther(c)
  }

  private selectedOther(c: ClientInternals): boolean {
    return !c.isCluster && c.condition?.select !== undefined && c.condition.select !== configuredDb(c)
  }

  /** DISCARD (which also unwatches), UNWATCH, SELECT back: the client as the next invocation expects it. */
  private async reset(client: TClient): Promise<void> {
    const c = internals(client)
    const state = this.stateOf(c)
    const redis = client as unknown as {
      discard(): Promise<unknown>
      unwatch(): Promise<unknown>
      select(db: number): Promise<unknown>
    }
    if (state.inMulti) await redis.discard()
    else if (state.watching) await redis.unwatch()
    if (this.selectedOther(c)) await redis.select(configuredDb(c))
  }

  /**
   * Sockets are referenced only while a command is in flight (or the client is subscribed, when
   * the handler waits for messages): an idle kept client, or one left by an early return, never
   * keeps a script or a callback-style invocation alive.
   */
  private setRef(client: ClientInternals, ref: boolean): void {
    for (const stream of streamsOf(client)) {
      if (ref) stream.ref()
      else stream.unref()
    }
  }

  private hold(client: ClientInternals, state: ClientState): void {
    state.inFlight += 1
    if (state.inFlight === 1) this.setRef(client, true)
  }

  private unhold(client: ClientInternals, state: ClientState): void {
    state.inFlight -= 1
    if (state.inFlight > 0) return
    const mode = client.mode
    if (mode !== 'subscriber' && mode !== 'monitor') this.setRef(client, false)
  }

  /** Resolves when the client is connected (eager mode), or fails like a command would. */
  waitReady(client: TClient, deadline: Deadline): Promise<void> {
    const c = internals(client)
    if (c.status === 'ready') return Promise.resolve()
    const state = this.stateOf(c)
    this.hold(c, state)
    return new Promise((resolve, reject) => {
      const done = (error?: unknown) => {
        clearTimeout(timer)
        this.unhold(c, state)
        c.removeListener('ready', onReady)
        c.removeListener('end', onEnd)
        if (error) reject(error)
        else resolve()
      }
      const onReady = () => done()
      const onEnd = () => done(this.connectFailure(c, '', undefined))
      const timer = setTimeout(
        () => done(this.deadlineFailure(c, 'connecting')),
        Math.max(0, deadline.remaining()),
      )
      timer.unref()
      c.on('ready', onReady)
      c.on('end', onEnd)
      if (c.status === 'wait') c.connect().catch(() => {})
    })
  }

  async dispose(): Promise<void> {
    clearTimeout(this.deadlineTimer)
    await this.pool.dispose()
  }

  /** What a logged manager shows: no settings, no client options, no secret. */
  toJSON(): object {
    return { key: this.key, clients: this.pool.size, inFlight: this.pending.size }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `RedisManager ${JSON.stringify(this.toJSON())}`
  }

  // ---- the client ----------------------------------------------------------------------------

  private stateOf(client: ClientInternals): ClientState {
    let state = this.states.get(client)
    if (!state) {
      state = new ClientState(describeEndpoint(client, this.settings.cluster?.nodes))
      this.states.set(client, state)
    }
    return state
  }

  private createClient(): TClient {
    const { settings } = this
    const { Redis } = settings
    const password = typeof settings.password === 'string' ? settings.password : undefined
    let target: ClientInternals | undefined
    const retryStrategy = (times: number) => (target ? this.retryDelay(target, times) : null)
    let client: TClient
    if (settings.cluster) {
      const { redisOptions, ...clusterOptions } = settings.cluster.options ?? {}
      const nodeOptions: RedisOptions = {
        disconnectTimeout: settings.closeTimeoutMs,
        ...settings.config,
        ...redisOptions,
        connectTimeout: settings.connectTimeoutMs,
        autoResendUnfulfilledCommands: settings.resendUnfulfilledCommands,
        ...(settings.commandTimeoutMs === undefined ? {} : { commandTimeout: settings.commandTimeoutMs }),
        ...(password === undefined ? {} : { password }),
      }
      const options: ClusterOptions = {
        slotsRefreshTimeout: settings.connectTimeoutMs,
        // The ioredis README's TLS-cluster detail (ElastiCache): keep the configuration endpoint's
        // hostname instead of resolving it, so the certificate check sees the name it was issued for.
        ...(nodeOptions.tls
          ? {
              dnsLookup: (address: string, callback: (e: null, a: string) => void) => callback(null, address),
            }
          : {}),
        ...clusterOptions,
        lazyConnect: true,
        enableOfflineQueue: true,
        clusterRetryStrategy: retryStrategy,
        redisOptions: nodeOptions,
      }
      client = new Redis.Cluster(settings.cluster.nodes, options) as TClient
    } else {
      const options: RedisOptions = {
        reconnectOnError: reconnectOnReadonly,
        disconnectTimeout: settings.closeTimeoutMs,
        ...settings.config,
        lazyConnect: true,
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
        autoResendUnfulfilledCommands: settings.resendUnfulfilledCommands,
        connectTimeout: settings.connectTimeoutMs,
        ...(settings.commandTimeoutMs === undefined ? {} : { commandTimeout: settings.commandTimeoutMs }),
        retryStrategy,
      }
      client = (settings.url ? new Redis(settings.url, options) : new Redis(options)) as TClient
      // The password option wins over one in the URL.
      if (password !== undefined) internals(client).options.password = password
    }
    target = internals(client)
    this.instrument(target)
    return client
  }

  private instrument(client: ClientInternals): void {
    const state = this.stateOf(client)
    conceal(client, () => state.endpoint)
    this.hookConnect(client, client)
    this.hookCredentials(client, client)
    this.hookCommands(client)
    const record = (error: unknown) => this.recordError(client, error)
    client.on('error', record)
    client.on('ready', () => state.ready())
    if (client.isCluster) {
      client.on('node error', record)
      // Node connections are created by the cluster as it discovers nodes; each gets the same
      // treatment (fresh password, bounded handshake) before its first connect.
      client.on('+node', (node: ClientInternals) => {
        conceal(node, () => state.endpoint)
        this.hookConnect(node, client)
        this.hookCredentials(node, client)
      })
    } else {
      client.on('close', () => this.failUnfulfilled(client))
    }
  }

  /**
   * Wraps `connect`, which ioredis calls for the first connection and every reconnect, to count
   * attempts and bound each one in time: TCP, TLS and the AUTH/ready-check handshake, of which
   * ioredis' own `connectTimeout` covers only the first two.
   */
  private hookConnect(target: ClientInternals, owner: ClientInternals): void {
    const original = target.connect
    const state = this.stateOf(owner)
    const settled = () => this.clearHandshakeTimer(target)
    target.on('ready', settled)
    target.on('end', settled)
    target.connect = (callback?: unknown) => {
      // A cluster counts its own (re)connects, not each node's.
      if (target === owner) {
        state.attempts += 1
        state.firstAttemptAt ??= Date.now()
      }
      const connecting = original.call(target, callback)
      this.armHandshakeTimer(target, owner)
      return connecting
    }
  }

  /**
   * A password provider is asked right before each socket is opened, so every reconnect uses a
   * fresh token: a server's (or cluster node's) connector waits for it, and a cluster resolves it
   * before it creates its node connections. ioredis has already taken the AUTH for the attempt
   * from its options at that point, so both are updated.
   */
  private hookCredentials(target: ClientInternals, owner: ClientInternals): void {
    const provider = this.settings.password
    if (typeof provider !== 'function') return
    const fetch = async () => {
      const budgetMs = this.bound(this.settings.connectTimeoutMs)
      try {
        return await withTimeout(resolveSecret(provider), budgetMs, () =>
          Object.assign(new Error(`no answer within ${budgetMs} ms`), { code: 'ETIMEDOUT' }),
        )
      } catch (error) {
        const failure = new ConnectError(
          `${packageName}: the password provider failed (${summary(error)}); no connection was opened to ${this.stateOf(owner).endpoint}`,
          { package: packageName, cause: scrubError(error) },
        )
        this.recordError(owner, failure)
        throw failure
      }
    }
    if (target.isCluster) {
      const resolve = target.resolveStartupNodeHostnames
      if (!resolve) return
      target.resolveStartupNodeHostnames = async () => {
        const secret = await fetch()
        // ioredis 5 shares the options object with its connection pool, ioredis 6 copies it.
        for (const options of [target.options.redisOptions, target.connectionPool?.redisOptions]) {
          if (options) options.password = secret
        }
        return resolve.call(target)
      }
      return
    }
    const connector = target.connector
    if (!connector) return
    const open = connector.connect
    connector.connect = async (...args: unknown[]) => {
      const secret = await fetch()
      target.options.password = secret
      const username = target.options.username
      if (target.condition) target.condition.auth = username ? [username, secret] : secret
      return open.apply(connector, args)
    }
  }

  private armHandshakeTimer(target: ClientInternals, owner: ClientInternals): void {
    const { connectTimeoutMs } = this.settings
    // When the deadline comes first, it decides (a DeadlineError), not this timer.
    const latest = this.deadlines.latest()
    if (latest && latest.remaining() <= connectTimeoutMs) return
    const epoch = target.connectionEpoch
    this.clearHandshakeTimer(target)
    const timer = setTimeout(() => {
      this.handshakeTimers.delete(target)
      if (target.connectionEpoch !== epoch || this.stateOf(owner).discarded) return
      if (target.status !== 'connecting' && target.status !== 'connect') return
      const error = Object.assign(
        new Error(
          `no connection ready within ${connectTimeoutMs} ms (TCP, TLS and handshake; connectTimeoutMs)`,
        ),
        { code: 'ETIMEDOUT' },
      )
      this.recordError(owner, error)
      if (target.isCluster) target.disconnect(true)
      else if (target.stream && !target.stream.destroyed) target.stream.destroy()
    }, connectTimeoutMs)
    timer.unref()
    this.handshakeTimers.set(target, timer)
  }

  private clearHandshakeTimer(target: ClientInternals): void {
    clearTimeout(this.handshakeTimers.get(target))
    this.handshakeTimers.delete(target)
  }

  /** Decides ioredis' reconnects: a few, quickly, and only while an invocation has time for them. */
  private retryDelay(client: ClientInternals, times: number): number | null {
    const state = this.stateOf(client)
    const latest = this.deadlines.latest()
    // No invocation is using the client: stop; the next one replaces it.
    if (!latest) return null
    if (times >= this.settings.connectAttempts) return null
    const delayMs = times === 1 ? 0 : Math.round(state.backoff())
    if (latest.remaining() - delayMs < MIN_ATTEMPT_MS) return null
    this.events.emit({
      type: 'retry',
      attempt: times,
      delayMs,
      ...(state.lastError === undefined ? {} : { error: describeError(state.lastError) }),
    })
    return delayMs
  }

  private recordError(client: ClientInternals, error: unknown): void {
    scrubError(error)
    const state = this.stateOf(client)
    if (state.discarded) return
    state.lastError = error
    this.events.emit({ type: 'error', reason: 'connection', error: describeError(error) })
  }

  /**
   * ioredis keeps the commands that were written but unanswered when a connection dropped, and
   * with `autoResendUnfulfilledCommands: false` silently forgets them after the reconnect, so
   * they would wait until a timeout. They may have run; they fail now instead.
   */
  private failUnfulfilled(client: ClientInternals): void {
    if (this.settings.resendUnfulfilledCommands) return
    const queue = client.prevCommandQueue
    if (!queue || queue.length === 0) return
    client.prevCommandQueue = null
    for (let item = queue.shift(); item; item = queue.shift()) {
      item.command.reject(this.lostFailure(client, item.command))
    }
  }

  // ---- commands ------------------------------------------------------------------------------

  /**
   * Wraps `sendCommand`, the one door every command of the client goes through (pipelines and
   * MULTI included): each is tracked until it settles, so it can be failed at the deadline, and
   * its connection failures become typed errors.
   */
  private hookCommands(client: ClientInternals): void {
    const original = client.sendCommand
    client.sendCommand = (command: CommandInternals, ...rest: unknown[]) => {
      let entry = (command as unknown as { [TRACKED]?: PendingCommand })[TRACKED]
      if (entry === undefined) {
        if (client.status === 'connect' && HANDSHAKE.has(command.name))
          return original.call(client, command, ...rest)
        entry = this.track(client, command)
        if (this.deadlines.expired) {
          this.finish(entry)
          entry.reject(this.deadlineFailure(client, name(command), false))
          return command.promise
        }
        if (SESSION.has(command.name)) noteSession(entry.state, command.name)
      }
      const result = original.call(client, command, ...rest)
      if (!entry.written) entry.written = client.commandQueue?.peekBack()?.command === command
      return result
    }
  }

  private track(client: ClientInternals, command: CommandInternals): PendingCommand {
    const { resolve, reject } = command
    const state = this.stateOf(client)
    const entry: PendingCommand = {
      command,
      client,
      reject,
      written: false,
      requeued: false,
      done: false,
      state,
    }
    ;(command as unknown as { [TRACKED]?: PendingCommand })[TRACKED] = entry
    this.pending.add(entry)
    this.hold(client, state)
    command.resolve = (value) => {
      this.finish(entry)
      resolve(value)
    }
    command.reject = (error) => {
      const outcome = this.onCommandError(entry, error)
      if (outcome === REQUEUED) return
      this.finish(entry)
      reject(outcome)
    }
    return entry
  }

  /** The command settled: out of the deadline's reach, and out of the in-flight count, once. */
  private finish(entry: PendingCommand): void {
    if (entry.done) return
    entry.done = true
    this.pending.delete(entry)
    this.unhold(entry.client, entry.state)
  }

  private onCommandError(entry: PendingCommand, error: unknown): unknown {
    if (error instanceof DownstreamError) return error
    scrubError(error)
    const { client, command } = entry
    const state = this.stateOf(client)
    if (isAuthError(error)) {
      // An expired token (ElastiCache IAM): fetch a fresh one and try once more. The command
      // waited in the offline queue, so it never ran.
      if (typeof this.settings.password === 'function' && !entry.requeued && !this.deadlines.expired) {
        entry.requeued = true
        setImmediate(() => client.sendCommand(command))
        return REQUEUED
      }
      return this.authFailure(client, error)
    }
    if (isReplyError(error)) return error
    if (isCommandTimeout(error)) {
      state.stale = true
      return new DeadlineError(
        `${packageName}: ${name(command)} got no answer from ${state.endpoint} within commandTimeoutMs (${this.settings.commandTimeoutMs} ms); the client will be replaced`,
        { package: packageName, cause: error },
      )
    }
    if (isConnectionError(error)) {
      if (entry.written) return this.lostFailure(client, command, error)
      if (isAuthError(state.lastError)) return this.authFailure(client, state.lastError)
      return this.connectFailure(client, `${name(command)} was not sent`, error)
    }
    return error
  }

  private authFailure(client: ClientInternals, cause: unknown): AuthenticationError {
    const { endpoint } = this.stateOf(client)
    return scrubError(
      new AuthenticationError(
        `${packageName}: ${endpoint} rejected the credentials (${summary(cause)}); check the username and password or the token provider`,
        { package: packageName, cause },
      ),
    )
  }

  /** `notSent`: what the failure kept from the server, e.g. `GET was not sent`. */
  private connectFailure(client: ClientInternals, notSent: string, fallback: unknown): ConnectError {
    const state = this.stateOf(client)
    const cause = state.lastError ?? fallback
    const tail = notSent ? `; ${notSent}` : ''
    if (state.attempts === 0 || state.lastError === undefined) {
      return scrubError(
        new ConnectError(
          `${packageName}: the connection to ${state.endpoint} was closed${cause ? ` (${summary(cause)})` : ''}${tail}`,
          { package: packageName, cause },
        ),
      )
    }
    const waited = state.firstAttemptAt === undefined ? '' : ` in ${Date.now() - state.firstAttemptAt} ms`
    return scrubError(
      new ConnectError(
        `${packageName}: could not connect to ${state.endpoint} (${summary(cause)}) after ${state.attempts} attempt(s)${waited}${tail}`,
        { package: packageName, cause, attempts: state.attempts },
      ),
    )
  }

  private lostFailure(
    client: ClientInternals,
    command: CommandInternals,
    cause?: unknown,
  ): ConnectionLostError {
    const state = this.stateOf(client)
    const why = state.lastError ?? cause
    return scrubError(
      new ConnectionLostError(
        `${packageName}: the connection to ${state.endpoint} was lost while ${name(command)} was in flight${why ? ` (${summary(why)})` : ''}; it may or may not have run, so it was not re-sent`,
        { package: packageName, cause: why },
      ),
    )
  }

  private deadlineFailure(client: ClientInternals, what: string, sent = true): DeadlineError {
    const state = this.stateOf(client)
    const why = !sent
      ? 'the deadline had already passed, so it was not sent'
      : client.status === 'ready'
        ? 'the server did not answer (the command may still run there)'
        : `the connection was ${client.status}`
    return scrubError(
      new DeadlineError(
        `${packageName}: ${what} did not complete before the invocation's deadline (${this.settings.marginMs} ms before the function timeout): ${why} (${state.endpoint}${state.lastError ? `, last error: ${summary(state.lastError)}` : ''})`,
        { package: packageName, ...(state.lastError === undefined ? {} : { cause: state.lastError }) },
      ),
    )
  }

  /** One timer per client, at the latest deadline of the invocations using it. */
  private armDeadline(): void {
    clearTimeout(this.deadlineTimer)
    this.deadlineTimer = undefined
    const latest = this.deadlines.latest()
    if (!latest?.bounded) return
    this.deadlineTimer = setTimeout(() => this.expire(), Math.max(0, latest.remaining()))
    this.deadlineTimer.unref()
  }

  /**
   * The deadline passed with commands unanswered: they fail now, and their connections are
   * destroyed at once (not at release), so a late answer (a BLPOP popping an item pushed after the
   * deadline) is never delivered to a reader that is gone. The next invocation gets a new client.
   */
  private expire(): void {
    this.deadlineTimer = undefined
    const clients = new Set<ClientInternals>()
    for (const entry of [...this.pending]) {
      this.finish(entry)
      entry.state.stale = true
      clients.add(entry.client)
      entry.reject(this.deadlineFailure(entry.client, name(entry.command)))
    }
    for (const client of clients) this.destroy(client as unknown as TClient)
  }

  private bound(ms: number): number {
    return this.deadlines.latest()?.bound(ms) ?? ms
  }

  private isBroken(client: TClient): boolean {
    const c = internals(client)
    if (this.stateOf(c).stale) return true
    switch (c.status) {
      case 'wait':
        return false
      case 'ready':
        // A FIN or RST read while the environment thawed (server idle timeout, restart).
        return streamsOf(c).some(isDeadStream)
      case 'end':
      case 'close':
        return true
      default:
        // Connecting or reconnecting: start afresh unless another invocation is using it.
        return this.deadlines.size <= 1
    }
  }

  /** Drops the client now: no QUIT, sockets destroyed, queued commands failed, no reconnect. */
  private destroy(client: TClient): void {
    const c = internals(client)
    const streams = streamsOf(c)
    this.stateOf(c).discarded = true
    forgetClosedStreams(c)
    try {
      c.disconnect()
    } catch {
      // already closed
    }
    for (const stream of streams) stream.destroy()
    // ioredis leaves a client that was between reconnects in "reconnecting" with its queue intact.
    if (c.status !== 'end') c.flushQueue(new Error('Connection is closed.'))
  }
}

const name = (command: CommandInternals): string => String(command.name).toUpperCase()

/** The database the client was configured with (URL path or `db` option), which ioredis defaults to 0. */
const configuredDb = (client: ClientInternals): number => Number(client.options.db ?? 0)

/** Follows MULTI/WATCH as commands are sent; EXEC and DISCARD end both. */
const noteSession = (state: ClientState, command: string): void => {
  if (command === 'multi') state.inMulti = true
  else if (command === 'watch') state.watching = true
  else if (command === 'unwatch') state.watching = false
  else {
    state.inMulti = false
    state.watching = false
  }
}
