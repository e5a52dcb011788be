import { DeadlineError, type DeadlineSet, DownstreamError } from '@middy-downstream/core'
import type { ClientState, ClientStates } from './client-state.js'
import { isAuthError, isCommandTimeout, isConnectionError, isReplyError, scrubError } from './errors.js'
import { authFailure, commandName, connectFailure, deadlineFailure, lostFailure } from './failures.js'
import { type ClientInternals, type CommandInternals, streamsOf } from './internals.js'
import { type ClientSettings, packageName } from './options.js'
import { noteSession } from './session-state.js'

/** Commands ioredis sends itself while a connection is being set up; they are left alone. */
const HANDSHAKE = new Set(['auth', 'hello', 'select', 'client', 'readonly', 'info', 'cluster'])

const TRACKED = Symbol('redis-connection.tracked')
const REQUEUED = Symbol('redis-connection.requeued')

/** A command sent through the client and not yet settled. */
interface PendingCommand {
  /** Neighbours in the tracker's list of pending commands (a list: no hashing per command). */
  previous?: PendingCommand
  next?: PendingCommand
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

/** What the tracker needs from the manager that owns the client. */
export interface TrackerContext {
  settings: ClientSettings
  states: ClientStates
  /** The deadlines of the invocations using the client now. */
  deadlines: DeadlineSet
  /** A password provider: a command refused for its credentials is sent once more with fresh ones. */
  refreshable: boolean
  /** Drops a client at once (sockets destroyed, no reconnect). */
  destroy(client: ClientInternals): void
}

/**
 * The commands in flight on a manager's clients, through ioredis' `sendCommand` (the one door
 * every command goes through, pipelines and MULTI included): each is tracked until it settles,
 * so it can be failed at the deadline, its connection failures become typed errors, MULTI/WATCH
 * are noted for the reset at release, and the sockets are referenced only while one is in flight.
 *
 * @example
 * const commands = new CommandTracker({ settings, states, deadlines, refreshable, destroy })
 * commands.hook(internals(client))
 */
export class CommandTracker {
  /** The newest pending command; each links to the one before it. */
  private newest?: PendingCommand
  private count = 0

  constructor(private readonly context: TrackerContext) {}

  /** Commands sent and not settled, on every client. */
  get size(): number {
    return this.count
  }

  hook(client: ClientInternals): void {
    const original = client.sendCommand
    const { deadlines } = this.context
    // Fixed parameters, not a rest array: this runs for every command (ioredis passes at most the
    // stream, a cluster also the node).
    client.sendCommand = (command: CommandInternals, stream?: unknown, node?: unknown) => {
      let entry = (command as unknown as { [TRACKED]?: PendingCommand })[TRACKED]
      if (entry === undefined) {
        if (client.status === 'connect' && HANDSHAKE.has(command.name))
          return original.call(client, command, stream, node)
        entry = this.track(client, command)
        if (deadlines.expired) {
          this.finish(entry)
          entry.reject(this.deadlineFailure(client, commandName(command), false))
          return command.promise
        }
        noteSession(entry.state, command.name)
      }
      const result = original.call(client, command, stream, node)
      if (!entry.written) entry.written = client.commandQueue?.peekBack()?.command === command
      return result
    }
  }

  /**
   * Sockets are referenced only while a command is in flight (or the client is subscribed, when
   * the handler waits for messages): an idle kept client, or one left by an early return, never
   * keeps a script or a callback-style invocation alive.
   */
  hold(client: ClientInternals, state: ClientState): void {
    state.inFlight += 1
    if (state.inFlight === 1) setRef(client, true)
  }

  unhold(client: ClientInternals, state: ClientState): void {
    state.inFlight -= 1
    if (state.inFlight > 0) return
    const mode = client.mode
    if (mode !== 'subscriber' && mode !== 'monitor') setRef(client, false)
  }

  /**
   * ioredis keeps the commands that were written but unanswered when a connection dropped, and
   * with `autoResendUnfulfilledCommands: false` silently forgets them after the reconnect, so
   * they would wait until a timeout. They may have run; they fail now instead.
   */
  failUnfulfilled(client: ClientInternals): void {
    if (this.context.settings.resendUnfulfilledCommands) return
    const queue = client.prevCommandQueue
    if (!queue || queue.length === 0) return
    client.prevCommandQueue = null
    const state = this.context.states.of(client)
    for (let item = queue.shift(); item; item = queue.shift()) {
      item.command.reject(lostFailure(state, item.command))
    }
  }

  /**
   * The deadline passed with commands unanswered: they fail now, and their connections are
   * destroyed at once (not at release), so a late answer (a BLPOP popping an item pushed after the
   * deadline) is never delivered to a reader that is gone. The next invocation gets a new client.
   */
  expire(): void {
    const clients = new Set<ClientInternals>()
    const entries: PendingCommand[] = []
    for (let entry = this.newest; entry; entry = entry.previous) entries.push(entry)
    // Oldest first, as they were sent.
    for (const entry of entries.reverse()) {
      this.finish(entry)
      entry.state.stale = true
      clients.add(entry.client)
      entry.reject(this.deadlineFailure(entry.client, commandName(entry.command)))
    }
    for (const client of clients) this.context.destroy(client)
  }

  /** `what` did not complete before the deadline, on this client. */
  deadlineFailure(client: ClientInternals, what: string, sent = true): DeadlineError {
    const { marginMs } = this.context.settings
    return deadlineFailure(this.context.states.of(client), { what, status: client.status, sent, marginMs })
  }

  private track(client: ClientInternals, command: CommandInternals): PendingCommand {
    const { resolve, reject } = command
    const state = this.context.states.of(client)
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
    if (this.newest) this.newest.next = entry
    entry.previous = this.newest
    this.newest = entry
    this.count += 1
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
    const { previous, next } = entry
    if (previous) previous.next = next
    if (next) next.previous = previous
    else this.newest = previous
    entry.previous = entry.next = undefined
    this.count -= 1
    this.unhold(entry.client, entry.state)
  }

  private onCommandError(entry: PendingCommand, error: unknown): unknown {
    if (error instanceof DownstreamError) return error
    scrubError(error)
    const { client, command, state } = entry
    if (isAuthError(error)) {
      // An expired token (ElastiCache IAM): the reconnect asks the provider again; the command is
      // sent once more. It waited in the offline queue, so it never ran.
      if (this.context.refreshable && !entry.requeued && !this.context.deadlines.expired) {
        entry.requeued = true
        setImmediate(() => client.sendCommand(command))
        return REQUEUED
      }
      return authFailure(state, error)
    }
    if (isReplyError(error)) return error
    if (isCommandTimeout(error)) {
      state.stale = true
      return new DeadlineError(
        `${packageName}: ${commandName(command)} got no answer from ${state.endpoint} within commandTimeoutMs (${this.context.settings.commandTimeoutMs} ms); the client will be replaced`,
        { package: packageName, cause: error },
      )
    }
    if (isConnectionError(error)) {
      if (entry.written) return lostFailure(state, command, error)
      if (isAuthError(state.lastError)) return authFailure(state, state.lastError)
      return connectFailure(state, `${commandName(command)} was not sent`, error)
    }
    return error
  }
}

const setRef = (client: ClientInternals, ref: boolean): void => {
  // A single client, the common case, without building the list of streams (twice per command).
  if (!client.isCluster) {
    if (ref) client.stream?.ref()
    else client.stream?.unref()
    return
  }
  for (const stream of streamsOf(client)) {
    if (ref) stream.ref()
    else stream.unref()
  }
}
