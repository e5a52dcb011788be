import {
  AuthenticationError,
  ConnectError,
  type ConnectFailure,
  ConnectionLostError,
  type Deadline,
  DeadlineError,
  DownstreamError,
  describeError,
  redactError,
} from '@middy-downstream/core'
import { packageName } from './options.js'

/**
 * What a driver error means for the connection:
 * - `authentication`: the server rejected the credentials;
 * - `selection`: no server could be selected in time (unreachable, down, wrong address);
 * - `network`: a socket failed or timed out (the operation may or may not have run);
 * - `closed`: the client was closed under the operation;
 * - `configuration`: bad options, URL or an unsupported server (retrying cannot help);
 * - `other`: a command error (duplicate key, validation...), left to the handler.
 *
 * @example
 * const failure: MongoFailure = classifyMongoError(error)
 */
export type MongoFailure = 'authentication' | 'selection' | 'network' | 'closed' | 'configuration' | 'other'

/** Class names of an error and its ancestors: the driver's classes are matched by name, so any copy of it works. */
const classNames = (error: object): Set<string> => {
  const names = new Set<string>()
  const name = (error as { name?: unknown }).name
  if (typeof name === 'string') names.add(name)
  for (
    let proto = Object.getPrototypeOf(error);
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    const constructorName = (proto as { constructor?: { name?: string } }).constructor?.name
    if (constructorName) names.add(constructorName)
  }
  return names
}

const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
])

/**
 * Classifies an error thrown by the `mongodb` driver (6 or 7).
 *
 * @example
 * classifyMongoError(error) === 'authentication' // code 18, AuthenticationFailed
 */
export const classifyMongoError = (error: unknown): MongoFailure => {
  if (typeof error !== 'object' || error === null) return 'other'
  const e = error as { code?: unknown; codeName?: unknown }
  if (e.code === 18 || e.codeName === 'AuthenticationFailed') return 'authentication'
  const names = classNames(error)
  if (names.has('MongoServerSelectionError')) return 'selection'
  if (names.has('MongoNetworkError') || (typeof e.code === 'string' && networkCodes.has(e.code)))
    return 'network'
  if (
    names.has('MongoClientClosedError') ||
    names.has('MongoTopologyClosedError') ||
    names.has('MongoNotConnectedError')
  ) {
    return 'closed'
  }
  if (
    names.has('MongoParseError') ||
    names.has('MongoAPIError') ||
    names.has('MongoMissingCredentialsError') ||
    names.has('MongoCompatibilityError')
  ) {
    return 'configuration'
  }
  return 'other'
}

/** How core treats a failed connect: network trouble is retried inside the deadline, the rest is final. */
export const connectFailure = (error: unknown): ConnectFailure => {
  const failure = classifyMongoError(error)
  if (failure === 'authentication') return 'authentication'
  if (failure === 'selection' || failure === 'network') return 'network'
  if ((error as { code?: unknown })?.code === 'ETIMEDOUT') return 'network'
  return 'fatal'
}

export interface WrapContext {
  deadline: Deadline
  /** Why the middleware closed this invocation's client under it, if it did. */
  closedBecause?: 'deadline' | 'shared-deadline' | string
  /** The deadline margin, for the message. */
  marginMs: number
}

/**
 * Turns a driver error that means "the connection failed" into this suite's typed errors, with
 * the driver error as `cause` and its `code` copied up; other errors (and errors that are already
 * typed) come back unchanged. Secrets are scrubbed from both.
 *
 * @example
 * try { await db.collection('orders').findOne({}) } catch (error) {
 *   throw wrapMongoError(error, { deadline, marginMs: 500 })
 * }
 */
export const wrapMongoError = (error: unknown, context: WrapContext): unknown => {
  if (error instanceof DownstreamError || typeof error !== 'object' || error === null)
    return redactError(error)
  const failure = classifyMongoError(error)
  const options = { package: packageName, cause: redactError(error) }
  const detail = describeError(error).message
  if (context.closedBecause && failure !== 'other' && failure !== 'authentication') {
    if (context.closedBecause === 'deadline') {
      return new DeadlineError(
        `${packageName}: a MongoDB operation was still running ${context.marginMs} ms before the invocation's timeout (${detail}); the client was closed so the invocation can answer in time, and the next invocation opens a new one`,
        options,
      )
    }
    return new ConnectionLostError(
      `${packageName}: the client was closed under the operation (${context.closedBecause}): ${detail}`,
      options,
    )
  }
  switch (failure) {
    case 'authentication':
      return new AuthenticationError(
        `${packageName}: the server rejected the credentials (${detail}); check the user and password or the credentials provider`,
        options,
      )
    case 'selection':
      return context.deadline.expired
        ? new DeadlineError(
            `${packageName}: no MongoDB server could be reached before the invocation's deadline (${detail})`,
            options,
          )
        : new ConnectError(
            `${packageName}: no MongoDB server could be reached within serverSelectionTimeoutMS (${detail})`,
            options,
          )
    case 'network':
      return new ConnectionLostError(
        `${packageName}: the connection failed during the operation, which may or may not have run on the server (${detail})`,
        options,
      )
    default:
      return redactError(error)
  }
}
