import type { Context } from 'aws-lambda'
import { crypto } from './builtins.js'

export interface FakeContextOptions {
  /**
   * The function timeout; `getRemainingTimeInMillis()` counts down from it.
   * @default `3000`
   */
  timeoutMs?: number
  /**
   * `context.functionName` (and the function part of the ARN).
   * @default `'test-function'`
   */
  functionName?: string
  /**
   * `context.awsRequestId`.
   * @default a random UUID
   */
  awsRequestId?: string
  /**
   * Start the countdown from this epoch time (ms) instead of now.
   * @default `Date.now()`
   */
  startedAt?: number
}

/**
 * A Lambda `Context` whose remaining time counts down from a timeout, as the real one does.
 *
 * @example
 * const context = fakeContext({ timeoutMs: 1000 })
 * context.getRemainingTimeInMillis() // ≈ 1000, then less
 */
export const fakeContext = (options: FakeContextOptions = {}): Context => {
  const timeoutMs = options.timeoutMs ?? 3000
  const startedAt = options.startedAt ?? Date.now()
  const functionName = options.functionName ?? 'test-function'
  const unsupported = () => {
    throw new Error('the deprecated done/fail/succeed methods are not supported by fakeContext')
  }
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '128',
    awsRequestId: options.awsRequestId ?? crypto().randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/11/26/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => Math.max(0, startedAt + timeoutMs - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  }
}
