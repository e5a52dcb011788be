import { isNetworkErrorCode, redact, redactError } from '@middy-downstream/core'

/**
 * ioredis' message when a command meets a closed or ended connection.
 *
 * @example
 * client.flushQueue(new Error(CONNECTION_CLOSED))
 */
export const CONNECTION_CLOSED = 'Connection is closed.'

/** TLS handshake failures against a plain-text port: the server is there, but not reachable as asked. */
const tlsMismatchCodes = new Set(['ERR_SSL_WRONG_VERSION_NUMBER'])
const isNetworkCode = (code: unknown) =>
  isNetworkErrorCode(code) || (typeof code === 'string' && tlsMismatchCodes.has(code))

/** Messages ioredis uses when it gives up on a command because there is no usable connection. */
const connectionMessages = [
  CONNECTION_CLOSED,
  "Stream isn't writeable",
  'Reached the max retries per request limit',
  'None of startup nodes is available',
  'Failed to refresh slots cache',
  'Cluster is ended',
  "Cluster isn't ready",
  'Cluster is disconnected',
  'Connection is discarded',
  'Connection is aborted',
  'Socket timeout',
]

interface ErrorShape {
  name?: string
  message?: string
  code?: string
  command?: { name?: string; args?: unknown[] }
}

const shape = (error: unknown): ErrorShape =>
  typeof error === 'object' && error !== null ? (error as ErrorShape) : {}

/**
 * The server rejected the credentials, or wants some (WRONGPASS, NOAUTH, invalid password…).
 *
 * @example
 * isAuthError(new Error('WRONGPASS invalid username-password pair')) // true
 */
export const isAuthError = (error: unknown): boolean => {
  const message = shape(error).message ?? ''
  return /\b(WRONGPASS|NOAUTH)\b|\bERR invalid (username-)?password/i.test(message)
}

/**
 * The server answered the command with an error (WRONGTYPE, a script error…): not a connection failure.
 *
 * @example
 * if (isReplyError(error)) return error // the command's answer, passed through
 */
export const isReplyError = (error: unknown): boolean => shape(error).name === 'ReplyError'

/**
 * A command failed because no connection could carry it, or the one it was on broke.
 *
 * @example
 * isConnectionError(new Error('Connection is closed.')) // true
 */
export const isConnectionError = (error: unknown): boolean => {
  const { name, message = '', code } = shape(error)
  if (name === 'AbortError' || name === 'MaxRetriesPerRequestError' || name === 'ClusterAllFailedError')
    return true
  if (isNetworkCode(code)) return true
  return connectionMessages.some((m) => message.startsWith(m))
}

/**
 * ioredis' own per-command timeout (`commandTimeoutMs`).
 *
 * @example
 * isCommandTimeout(new Error('Command timed out')) // true
 */
export const isCommandTimeout = (error: unknown): boolean => shape(error).message === 'Command timed out'

/**
 * Scrubs an ioredis error in place: remembered secrets are cut out of its message and stack, and
 * out of the command arguments ioredis attaches (an AUTH or HELLO carries the password).
 *
 * @example
 * client.on('error', (error) => log(scrubError(error)))
 */
export const scrubError = <T>(error: T): T => {
  redactError(error)
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const command = shape(e).command
    if (command && Array.isArray(command.args)) {
      const sensitive = /^(auth|hello)$/i.test(String(command.name))
      try {
        command.args = command.args.map((arg) =>
          sensitive && typeof arg === 'string' && !/^(auth|default|[23])$/i.test(arg)
            ? '***'
            : typeof arg === 'string'
              ? redact(arg)
              : arg,
        )
      } catch {
        // a frozen object keeps its arguments
      }
    }
  }
  return error
}

/**
 * A short, secret-free description of an error for a message: `connect ECONNREFUSED 127.0.0.1:6379`.
 *
 * @example
 * `could not connect (${summary(error)})`
 */
export const summary = (error: unknown): string =>
  redact(String(shape(error).message ?? error))
    .replace(/\s+/g, ' ')
    .slice(0, 300)
