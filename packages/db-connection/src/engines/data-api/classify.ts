import { isNetworkErrorCode } from '@middy-downstream/core'
import type { StatementFailure } from '../../engine.js'

interface SdkError {
  name?: string
  code?: string
  message?: string
  $metadata?: { httpStatusCode?: number }
}

const statusOf = (error: unknown): number => (error as SdkError)?.$metadata?.httpStatusCode ?? 0

/** A paused Aurora Serverless cluster waking up: answered at once, nothing ran. */
export const isResuming = (error: unknown): boolean => {
  const e = error as SdkError
  return (
    e?.name === 'DatabaseResumingException' ||
    // What a resuming cluster also answers, before the resuming exception starts.
    (e?.name === 'BadRequestException' && /communications link failure/i.test(e.message ?? ''))
  )
}

/** Too many requests: refused before running. */
export const isThrottled = (error: unknown): boolean => {
  const e = error as SdkError
  return /Throttling|TooManyRequests/.test(e?.name ?? '') || statusOf(error) === 429
}

/**
 * Worth another attempt: refused before the statement ran (resuming, throttled, unavailable:
 * 502/503/504). A 500 is not here: the statement may have run (see `statementFailure`).
 */
export const isRetryable = (error: unknown): boolean => {
  const e = error as SdkError
  return (
    isResuming(error) ||
    isThrottled(error) ||
    e?.name === 'ServiceUnavailableError' ||
    e?.name === 'DatabaseUnavailableException' ||
    [502, 503, 504].includes(statusOf(error))
  )
}

export const isAuthentication = (error: unknown): boolean =>
  /^(ForbiddenException|AccessDeniedException|InvalidSecretException|SecretsErrorException|UnrecognizedClientException)$/.test(
    (error as SdkError)?.name ?? '',
  )

/** The Data API's 1 MiB response limit (`BadRequestException: Database returned more than the allowed response size limit`). */
export const isTooLarge = (error: unknown): boolean =>
  /response size limit|exceeds? .*(?:1 ?MiB|size)/i.test((error as SdkError)?.message ?? '')

/** Our abort at the deadline (the SDK rejects with an `AbortError`). */
export const isAborted = (error: unknown): boolean => (error as SdkError)?.name === 'AbortError'

export const statementFailure = (error: unknown): StatementFailure => {
  const e = error as SdkError
  if (isAborted(error)) return 'timeout'
  // A 500, or a socket that broke under the request: the statement may or may not have run.
  if (statusOf(error) >= 500 || e?.name === 'InternalServerErrorException') return 'lost'
  if (isNetworkErrorCode(e?.code)) return 'lost'
  return 'operation'
}

/** A secret's ARN in an SDK message is not repeated in ours. */
export const scrubSecretArns = (error: unknown): void => {
  const e = error as SdkError
  if (typeof e?.message === 'string')
    e.message = e.message.replace(/arn:aws[\w-]*:secretsmanager:[^\s"',;)]+/g, '[secret ARN]')
}
