import {
  ConnectError,
  type CredentialSource,
  type DeadlineSet,
  describeError,
  type EventSink,
} from '@middy-downstream/core'
import type { ClientStates } from './client-state.js'
import { scrubError } from './errors.js'
import type { ClientInternals } from './internals.js'
import { type ClientSettings, packageName } from './options.js'

/** What the connector hooks need from the manager that owns the client. */
export interface ConnectorContext {
  settings: ClientSettings
  events: EventSink
  states: ClientStates
  /** The deadlines of the invocations using the client now. */
  deadlines: DeadlineSet
  credentials: CredentialSource
}

/**
 * ioredis' connection seams: `connect()` (every first connect and reconnect), the connector that
 * opens the socket (or a cluster's startup-node resolution), and `retryStrategy`. Each attempt is
 * counted and bounded in time, a password provider is asked right before each socket is opened,
 * and reconnects follow core's retry budget inside the deadline.
 *
 * @example
 * const hooks = new ConnectorHooks({ settings, events, states, deadlines, credentials })
 * hooks.attach(node, owner)
 */
export class ConnectorHooks {
  private readonly handshakeTimers = new WeakMap<ClientInternals, NodeJS.Timeout>()

  constructor(private readonly context: ConnectorContext) {}

  /** Hooks a client, or a cluster node (`target`) of a cluster (`owner`), before its first connect. */
  attach(target: ClientInternals, owner: ClientInternals): void {
    this.hookConnect(target, owner)
    this.hookCredentials(target, owner)
  }

  /**
   * ioredis' `retryStrategy` (`clusterRetryStrategy`): a few reconnects, quickly, and only while an
   * invocation has time for them: core's `RetryBudget` with the latest deadline of the invocations
   * using the client. `null` stops.
   */
  retryDelay(client: ClientInternals, times: number): number | null {
    const latest = this.context.deadlines.latest()
    // No invocation is using the client: stop; the next one replaces it.
    if (!latest) return null
    const state = this.context.states.of(client)
    const decision = state.retries.nextDelay(times, latest)
    if ('stop' in decision) return null
    const delayMs = Math.round(decision.delayMs)
    this.context.events.emit({
      type: 'retry',
      attempt: times,
      delayMs,
      ...(state.lastError === undefined ? {} : { error: describeError(state.lastError) }),
    })
    return delayMs
  }

  /** A connection error of a client: remembered for the next message, emitted as an event. */
  recordError(client: ClientInternals, error: unknown): void {
    scrubError(error)
    const state = this.context.states.of(client)
    if (state.discarded) return
    state.lastError = error
    this.context.events.emit({ type: 'error', reason: 'connection', error: describeError(error) })
  }

  /**
   * Wraps `connect`, which ioredis calls for the first connection and every reconnect, to count
   * attempts and bound each one in time: TCP, TLS and the AUTH/ready-check handshake, of which
   * ioredis' own `connectTimeout` covers only the first two.
   */
  private hookConnect(target: ClientInternals, owner: ClientInternals): void {
    const original = target.connect
    const state = this.context.states.of(owner)
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

  private armHandshakeTimer(target: ClientInternals, owner: ClientInternals): void {
    const { connectTimeoutMs } = this.context.settings
    // When the deadline comes first, it decides (a DeadlineError), not this timer.
    const latest = this.context.deadlines.latest()
    if (latest && latest.remaining() <= connectTimeoutMs) return
    const epoch = target.connectionEpoch
    this.clearHandshakeTimer(target)
    const timer = setTimeout(() => {
      this.handshakeTimers.delete(target)
      if (target.connectionEpoch !== epoch || this.context.states.of(owner).discarded) return
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

  /**
   * A password provider is asked right before each socket is opened, so every reconnect uses a
   * fresh token: a server's (or cluster node's) connector waits for it, and a cluster resolves it
   * before it creates its node connections. ioredis has already taken the AUTH for the attempt
   * from its options at that point, so both are updated.
   */
  private hookCredentials(target: ClientInternals, owner: ClientInternals): void {
    if (!this.context.credentials.refreshable) return
    const fetch = () => this.fetchSecret(owner)
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

  /** The provider's answer within the connect timeout and the deadline, or a `ConnectError`. */
  private async fetchSecret(owner: ClientInternals): Promise<string | undefined> {
    const { settings, deadlines, credentials, states } = this.context
    const budgetMs = deadlines.latest()?.bound(settings.connectTimeoutMs) ?? settings.connectTimeoutMs
    try {
      return await credentials.fetch(budgetMs)
    } catch (error) {
      const failure = scrubError(
        new ConnectError(
          `${packageName}: ${(error as Error).message}; no connection was opened to ${states.of(owner).endpoint}`,
          { package: packageName, cause: (error as Error).cause ?? error },
        ),
      )
      this.recordError(owner, failure)
      throw failure
    }
  }
}
