/** What went wrong, as a caller decides what to do about it. */
export type DownstreamErrorKind =
  | 'connect'
  | 'capacity'
  | 'authentication'
  | 'timeout'
  | 'connection-lost'
  | 'operation'
  | 'transaction'
  | 'closed'
  | 'released'

export interface DownstreamErrorOptions {
  /** The package that raised it, e.g. `@middy-downstream/db-connection`. */
  package: string
  /**
   * The driver's error, kept as is so its identity and fields stay reachable.
   * @default none
   */
  cause?: unknown
  /**
   * How many attempts were made before giving up.
   * @default none (not known)
   */
  attempts?: number
}

interface DriverFields {
  code?: string | number
  errno?: number
  sqlState?: string
}

const driverFields = (cause: unknown): DriverFields => {
  if (typeof cause !== 'object' || cause === null) return {}
  const { code, errno, sqlState } = cause as DriverFields
  return {
    ...(code === undefined ? {} : { code }),
    ...(typeof errno === 'number' ? { errno } : {}),
    ...(sqlState === undefined ? {} : { sqlState }),
  }
}

/**
 * Base of every error this suite raises. The driver's error is the `cause`; its `code`, `errno`
 * and `sqlState` are copied up so `error.code === 'ER_CON_COUNT_ERROR'` works without unwrapping.
 *
 * @example
 * try { await context.db.query('SELECT 1') } catch (error) {
 *   if (error instanceof DownstreamError && error.kind === 'capacity') return { statusCode: 503 }
 *   throw error
 * }
 */
export class DownstreamError extends Error {
  readonly kind: DownstreamErrorKind = 'operation'
  readonly package: string
  readonly code?: string | number
  readonly errno?: number
  readonly sqlState?: string
  readonly attempts?: number

  constructor(message: string, options: DownstreamErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.package = options.package
    Object.assign(this, driverFields(options.cause))
    if (options.attempts !== undefined) this.attempts = options.attempts
  }
}

/** A connection could not be opened (network, refused, handshake). */
export class ConnectError extends DownstreamError {
  override readonly kind: DownstreamErrorKind = 'connect'
}

/** The server refused a connection because it is full (MySQL 1040, 1203, 1226…). */
export class CapacityError extends ConnectError {
  override readonly kind: DownstreamErrorKind = 'capacity'
}

/** The server rejected the credentials, also after one refresh of a provided secret. */
export class AuthenticationError extends ConnectError {
  override readonly kind: DownstreamErrorKind = 'authentication'
}

/** The work did not finish inside the time the invocation had left (minus the safety margin). */
export class DeadlineError extends DownstreamError {
  override readonly kind: DownstreamErrorKind = 'timeout'
}

/**
 * The connection was lost while an operation was in flight. The operation may or may not have
 * run on the server, so it was not re-run.
 */
export class ConnectionLostError extends DownstreamError {
  override readonly kind: DownstreamErrorKind = 'connection-lost'
}

/** An operation failed on the server (a SQL error, a command error). */
export class OperationError extends DownstreamError {
  override readonly kind: DownstreamErrorKind = 'operation'
}

/** A transaction could not be committed or its connection was lost; its work was not applied. */
export class TransactionError extends DownstreamError {
  override readonly kind: DownstreamErrorKind = 'transaction'
}

/** The managed client was disposed. */
export class ClosedError extends DownstreamError {
  override readonly kind: DownstreamErrorKind = 'closed'
}

/**
 * The handle was used after its invocation ended (the handler returned, threw, or returned
 * early, or Middy's timeoutEarly ended it). Nothing was sent and no connection was taken: work
 * started from a timer or a forgotten promise must not reach the next invocation.
 */
export class ReleasedError extends DownstreamError {
  override readonly kind: DownstreamErrorKind = 'released'
}
