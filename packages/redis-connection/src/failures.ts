import { AuthenticationError, ConnectError, ConnectionLostError, DeadlineError } from '@middy-downstream/core'
import type { ClientState } from './client-state.js'
import { scrubError, summary } from './errors.js'
import type { CommandInternals } from './internals.js'
import { packageName } from './options.js'

/** A command's name as messages show it: `GET`. */
export const commandName = (command: CommandInternals): string => String(command.name).toUpperCase()

/**
 * The server rejected the credentials.
 *
 * @example
 * reject(authFailure(state, error))
 */
export const authFailure = (state: ClientState, cause: unknown): AuthenticationError =>
  scrubError(
    new AuthenticationError(
      `${packageName}: ${state.endpoint} rejected the credentials (${summary(cause)}); check the username and password or the token provider`,
      { package: packageName, cause },
    ),
  )

/**
 * No connection: closed, or not opened after the attempts ioredis made. `notSent` says what the
 * failure kept from the server, e.g. `GET was not sent`.
 *
 * @example
 * connectFailure(state, 'GET was not sent', error)
 */
export const connectFailure = (state: ClientState, notSent: string, fallback: unknown): ConnectError => {
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

/**
 * A command was written and its connection broke before the answer: it may have run.
 *
 * @example
 * command.reject(lostFailure(state, command))
 */
export const lostFailure = (
  state: ClientState,
  command: CommandInternals,
  cause?: unknown,
): ConnectionLostError => {
  const why = state.lastError ?? cause
  return scrubError(
    new ConnectionLostError(
      `${packageName}: the connection to ${state.endpoint} was lost while ${commandName(command)} was in flight${why ? ` (${summary(why)})` : ''}; it may or may not have run, so it was not re-sent`,
      { package: packageName, cause: why },
    ),
  )
}

/**
 * `what` did not complete before the invocation's deadline. `status` is the client's connection
 * status; `sent` false: the deadline had passed before it was sent.
 *
 * @example
 * deadlineFailure(state, { what: 'GET', status: c.status, sent: true, marginMs })
 */
export const deadlineFailure = (
  state: ClientState,
  at: { what: string; status: string; sent: boolean; marginMs: number },
): DeadlineError => {
  const why = !at.sent
    ? 'the deadline had already passed, so it was not sent'
    : at.status === 'ready'
      ? 'the server did not answer (the command may still run there)'
      : `the connection was ${at.status}`
  return scrubError(
    new DeadlineError(
      `${packageName}: ${at.what} did not complete before the invocation's deadline (${at.marginMs} ms before the function timeout): ${why} (${state.endpoint}${state.lastError ? `, last error: ${summary(state.lastError)}` : ''})`,
      { package: packageName, ...(state.lastError === undefined ? {} : { cause: state.lastError }) },
    ),
  )
}
