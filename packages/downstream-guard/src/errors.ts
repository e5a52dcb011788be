import { DownstreamError, type DownstreamErrorKind, redact } from '@middy-downstream/core'
import { packageName } from './options.js'
import type { GuardLimit } from './permits.js'

/**
 * No permit for the downstream within the time the invocation could wait. `limit` says which
 * limit refused it (`unavailable`: Redis could not be reached and `failOpen` is off, the driver
 * error in `cause`); `retryAfterMs` is when a permit may be free again.
 *
 * @example
 * try { await handler(event, context) } catch (error) {
 *   if (error instanceof ThrottledError) return { retryInMs: error.retryAfterMs }
 * }
 */
export class ThrottledError extends DownstreamError {
  override readonly kind: DownstreamErrorKind = 'capacity'

  constructor(
    readonly downstream: string,
    readonly limit: GuardLimit,
    readonly retryAfterMs: number,
    cause?: unknown,
  ) {
    super(
      limit === 'unavailable'
        ? `${packageName}: no permit for "${downstream}": Redis did not answer the permit request (failOpen is off)${cause instanceof Error ? `: ${redact(cause.message)}` : ''}`
        : `${packageName}: no permit for "${downstream}": its ${limit} limit is reached; retry in ${retryAfterMs} ms`,
      { package: packageName, ...(cause === undefined ? {} : { cause }) },
    )
  }
}
