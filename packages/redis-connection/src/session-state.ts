import type { ClientState } from './client-state.js'
import { type ClientInternals, internals, isDeadStream, streamsOf } from './internals.js'
import type { RedisClient } from './options.js'

/**
 * Commands that leave session state on the connection, which the next invocation must not see:
 * tracked as they are sent (one set lookup per command) so only an invocation that used one pays
 * for a reset at release.
 */
const SESSION = new Set(['multi', 'exec', 'discard', 'watch', 'unwatch'])

/**
 * Follows MULTI/WATCH as commands are sent; EXEC and DISCARD end both.
 *
 * @example
 * noteSession(state, command.name)
 */
export const noteSession = (state: ClientState, command: string): void => {
  if (!SESSION.has(command)) return
  if (command === 'multi') state.inMulti = true
  else if (command === 'watch') state.watching = true
  else if (command === 'unwatch') state.watching = false
  else {
    state.inMulti = false
    state.watching = false
  }
}

/** The database the client was configured with (URL path or `db` option), which ioredis defaults to 0. */
const configuredDb = (client: ClientInternals): number => Number(client.options.db ?? 0)

const selectedOther = (c: ClientInternals): boolean =>
  !c.isCluster && c.condition?.select !== undefined && c.condition.select !== configuredDb(c)

/**
 * Whether the invocation left session state the next one would see: an open MULTI, a WATCH, a
 * database other than the configured one (ioredis tracks the selected one). Read at release;
 * an ordinary invocation sends nothing for it.
 *
 * @example
 * scope.dirty = needsReset(states.of(c), c)
 */
export const needsReset = (state: ClientState, c: ClientInternals): boolean =>
  state.inMulti || state.watching || selectedOther(c)

/**
 * DISCARD (which also unwatches), UNWATCH, SELECT back: the client as the next invocation expects it.
 *
 * @example
 * await resetSession(client, states.of(internals(client)))
 */
export const resetSession = async (client: RedisClient, state: ClientState): Promise<void> => {
  const c = internals(client)
  const redis = client as unknown as {
    discard(): Promise<unknown>
    unwatch(): Promise<unknown>
    select(db: number): Promise<unknown>
  }
  if (state.inMulti) await redis.discard()
  else if (state.watching) await redis.unwatch()
  if (selectedOther(c)) await redis.select(configuredDb(c))
}

/**
 * Why a client must not be kept after an invocation, or `undefined` when it is healthy.
 *
 * @example
 * const problem = problemAtRelease(state, c) // 'subscriber', 'stale', …
 */
export const problemAtRelease = (state: ClientState, c: ClientInternals): string | undefined => {
  if (state.stale) return 'stale'
  if (c.status === 'wait') return undefined
  // Subscriptions and MONITOR own the connection (and listeners the handler added): a new one is
  // simpler and safer than unsubscribing from everything; it is rare.
  const mode = c.mode
  if (mode === 'subscriber' || mode === 'monitor') return mode
  if (c.status !== 'ready') return 'not-ready'
  return streamsOf(c).some(isDeadStream) ? 'connection-closed' : undefined
}
