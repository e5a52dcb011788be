import { RetryBudget } from '@middy-downstream/core'
import { type ClientInternals, describeEndpoint } from './internals.js'
import type { ClientSettings } from './options.js'

/** What is known about one client's connection, for messages and decisions. */
export class ClientState {
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
  /**
   * ioredis' reconnects: a few, quickly (the first at once), none started with less than 50 ms
   * left before the deadline. Core's rule; ioredis counts the attempts.
   */
  readonly retries: RetryBudget

  constructor(
    readonly endpoint: string,
    connectAttempts: number,
  ) {
    this.retries = new RetryBudget({
      strategy: 'decorrelated',
      baseMs: 50,
      capMs: 500,
      maxAttempts: connectAttempts,
      minAttemptMs: 50,
      immediateFirstRetry: true,
    })
  }

  ready(): void {
    this.lastError = undefined
    this.attempts = 0
    this.firstAttemptAt = undefined
    this.retries.reset()
  }
}

/**
 * The state of each client (a `Redis`, a `Cluster`) a manager created, kept beside the client,
 * never on it.
 *
 * @example
 * const state = states.of(internals(client))
 */
export class ClientStates {
  private readonly states = new WeakMap<object, ClientState>()

  constructor(private readonly settings: ClientSettings) {}

  of(client: ClientInternals): ClientState {
    let state = this.states.get(client)
    if (!state) {
      state = new ClientState(
        describeEndpoint(client, this.settings.cluster?.nodes),
        this.settings.connectAttempts,
      )
      this.states.set(client, state)
    }
    return state
  }
}
