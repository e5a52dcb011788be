import {
  AuthenticationError,
  CapacityError,
  Deadline,
  DeadlineError,
  OperationError,
  RetryGaveUp,
  type RetryOptions,
  retryWithin,
} from '@middy-downstream/core'
import {
  isAuthentication,
  isResuming,
  isRetryable,
  isThrottled,
  isTooLarge,
  scrubSecretArns,
} from './classify.js'
import type { DataApiTarget } from './client.js'

export const packageName = '@middy-downstream/db-connection/data-api'

/** A Data API command, sent with an abort signal at the deadline. */
export type Call<T> = (target: DataApiTarget, abortSignal: AbortSignal) => Promise<T>

/** The statement's first words, for messages (never its values). */
const firstWords = (sql: string): string => {
  const words = sql.trim().split(/\s+/).slice(0, 4).join(' ')
  return words.length > 40 ? `${words.slice(0, 40)}…` : words
}

/** The SDK error as one of ours when its meaning is clear; otherwise as is, for the session to map. */
const translate = (error: unknown, what: string, attempts: number, timeoutMs: number): unknown => {
  scrubSecretArns(error)
  const options = { package: packageName, cause: error, attempts }
  if (isResuming(error)) {
    return new DeadlineError(
      `${packageName}: the Aurora cluster is resuming from a pause and did not answer within ${timeoutMs} ms (${attempts} attempt(s)); "${what}" was not run. Give the function more time, or keep the cluster's minimum capacity above 0`,
      options,
    )
  }
  if (isThrottled(error)) {
    return new CapacityError(
      `${packageName}: the Data API kept throttling (${attempts} attempt(s)); "${what}" was not run`,
      options,
    )
  }
  if (isAuthentication(error)) {
    return new AuthenticationError(
      `${packageName}: the Data API refused the credentials (${(error as Error).name}); check the role's rds-data and secretsmanager:GetSecretValue permissions and the secret`,
      options,
    )
  }
  if (isTooLarge(error)) {
    return new OperationError(
      `${packageName}: the result of "${what}" is over the Data API's 1 MiB response limit; paginate it (LIMIT/OFFSET) or select fewer columns`,
      options,
    )
  }
  return error
}

/**
 * Sends one command. Outside a transaction, refusals that mean "nothing ran" (resuming,
 * throttled, unavailable) are retried with jitter while `timeoutMs` allows; inside a
 * transaction (`retry: false`) nothing is sent twice. Every attempt aborts at the deadline.
 */
export const send = async <T>(
  target: DataApiTarget,
  call: Call<T>,
  sql: string,
  timeoutMs: number,
  retry: RetryOptions | false,
): Promise<T> => {
  const deadline = new Deadline(Date.now() + timeoutMs)
  const attempt = () => call(target, AbortSignal.timeout(deadline.bound(timeoutMs)))
  if (retry === false) {
    try {
      return await attempt()
    } catch (error) {
      throw translate(error, firstWords(sql), 1, timeoutMs)
    }
  }
  try {
    return await retryWithin(attempt, { deadline, isRetryable }, retry)
  } catch (error) {
    if (!(error instanceof RetryGaveUp)) throw error
    throw translate(error.lastError, firstWords(sql), error.attempts, timeoutMs)
  }
}
