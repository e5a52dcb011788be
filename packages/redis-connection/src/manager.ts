import {
  ClientPool,
  type ConnectionAdapter,
  CredentialSource,
  type Deadline,
  DeadlineGuard,
  type DeadlineSet,
  type EventSink,
} from '@middy-downstream/core'
import { buildIoredisClient } from './client-options.js'
import { ClientStates } from './client-state.js'
import { CommandTracker } from './command-tracking.js'
import { ConnectorHooks } from './connector-hooks.js'
import { connectFailure } from './failures.js'
import {
  type ClientInternals,
  conceal,
  forgetClosedStreams,
  internals,
  isDeadStream,
  streamsOf,
} from './internals.js'
import { type ClientSettings, packageName, type RedisClient } from './options.js'
import { needsReset, problemAtRelease, resetSession } from './session-state.js'

/**
 * One environment's ioredis client for one config: the `ClientPool` (shared sharing) that
 * creates, validates and replaces it, core's deadline guard over the invocations using it, and
 * the hooks on ioredis' own seams (connector, commands) that make every command on it finish
 * inside the invocation's deadline whatever the network does.
 *
 * @example
 * const manager = registryGet(key, () => new RedisManager(settings, key, events))
 * const scope = new RedisScope(manager, Deadline.fromContext(context, 200), 'keep')
 */
export class RedisManager<TClient extends RedisClient = RedisClient> {
  readonly pool: ClientPool<TClient>
  private readonly guard = new DeadlineGuard(() => this.commands.expire())
  private readonly states: ClientStates
  private readonly connector: ConnectorHooks
  private readonly commands: CommandTracker

  constructor(
    readonly settings: ClientSettings,
    readonly key: string,
    readonly events: EventSink,
  ) {
    this.states = new ClientStates(settings)
    const credentials = new CredentialSource(settings.password)
    const { states, deadlines } = this
    this.connector = new ConnectorHooks({ settings, events, states, deadlines, credentials })
    this.commands = new CommandTracker({
      settings,
      states,
      deadlines,
      refreshable: credentials.refreshable,
      destroy: (client) => this.destroy(client as unknown as TClient),
    })
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
      reset: (client) => resetSession(client, this.states.of(internals(client))),
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
      // ioredis connects and reconnects itself, under the retry budget its retryStrategy asks.
      retry: { strategy: 'decorrelated', baseMs: 50, capMs: 500, maxAttempts: 1 },
    })
  }

  /** The deadlines of the invocations using the client now. */
  get deadlines(): DeadlineSet {
    return this.guard.deadlines
  }

  // ---- invocations ---------------------------------------------------------------------------

  /** An invocation starts using the client: its deadline bounds commands and reconnects. */
  enter(deadline: Deadline): void {
    this.guard.enter(deadline)
  }

  leave(deadline: Deadline): void {
    this.guard.leave(deadline)
  }

  /** Why a client must not be kept after an invocation, or `undefined` when it is healthy. */
  problemAtRelease(client: TClient): string | undefined {
    const c = internals(client)
    return problemAtRelease(this.states.of(c), c)
  }

  /** Whether the invocation left session state (MULTI, WATCH, SELECT) the next one would see. */
  needsReset(client: TClient): boolean {
    const c = internals(client)
    return needsReset(this.states.of(c), c)
  }

  /** Resolves when the client is connected (eager mode), or fails like a command would. */
  waitReady(client: TClient, deadline: Deadline): Promise<void> {
    const c = internals(client)
    if (c.status === 'ready') return Promise.resolve()
    const state = this.states.of(c)
    this.commands.hold(c, state)
    return new Promise((resolve, reject) => {
      const done = (error?: unknown) => {
        clearTimeout(timer)
        this.commands.unhold(c, state)
        c.removeListener('ready', onReady)
        c.removeListener('end', onEnd)
        if (error) reject(error)
        else resolve()
      }
      const onReady = () => done()
      const onEnd = () => done(connectFailure(state, '', undefined))
      const timer = setTimeout(
        () => done(this.commands.deadlineFailure(c, 'connecting')),
        Math.max(0, deadline.remaining()),
      )
      timer.unref()
      c.on('ready', onReady)
      c.on('end', onEnd)
      if (c.status === 'wait') c.connect().catch(() => {})
    })
  }

  async dispose(): Promise<void> {
    this.guard.dispose()
    await this.pool.dispose()
  }

  /** What a logged manager shows: no settings, no client options, no secret. */
  toJSON(): object {
    return { key: this.key, clients: this.pool.size, inFlight: this.commands.size }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `RedisManager ${JSON.stringify(this.toJSON())}`
  }

  // ---- the client ----------------------------------------------------------------------------

  private createClient(): TClient {
    let target: ClientInternals | undefined
    const retryStrategy = (times: number) => (target ? this.connector.retryDelay(target, times) : null)
    const client = buildIoredisClient<TClient>(this.settings, retryStrategy)
    target = internals(client)
    this.instrument(target)
    return client
  }

  private instrument(client: ClientInternals): void {
    const state = this.states.of(client)
    conceal(client, () => state.endpoint)
    this.connector.attach(client, client)
    this.commands.hook(client)
    const record = (error: unknown) => this.connector.recordError(client, error)
    client.on('error', record)
    client.on('ready', () => state.ready())
    if (client.isCluster) {
      client.on('node error', record)
      // Node connections are created by the cluster as it discovers nodes; each gets the same
      // treatment (fresh password, bounded handshake) before its first connect.
      client.on('+node', (node: ClientInternals) => {
        conceal(node, () => state.endpoint)
        this.connector.attach(node, client)
      })
    } else {
      client.on('close', () => this.commands.failUnfulfilled(client))
    }
  }

  private isBroken(client: TClient): boolean {
    const c = internals(client)
    if (this.states.of(c).stale) return true
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
    this.states.of(c).discarded = true
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
