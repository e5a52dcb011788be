import type { Context } from 'aws-lambda'
import { warnOnce } from './warn.js'

/**
 * The plain Lambda context behind a Middy request context. Middy 7's durable execution mode
 * passes a durable context that wraps the real one as `lambdaContext`.
 */
export const lambdaContextOf = (context: unknown): Partial<Context> | undefined => {
  if (typeof context !== 'object' || context === null) return undefined
  const inner = (context as { lambdaContext?: unknown }).lambdaContext
  return (typeof inner === 'object' && inner !== null ? inner : context) as Partial<Context>
}

const readClock = (context: unknown): unknown => {
  const direct = (context as Partial<Context> | undefined)?.getRemainingTimeInMillis
  if (typeof direct === 'function') return direct.call(context)
  const inner = lambdaContextOf(context)
  return typeof inner?.getRemainingTimeInMillis === 'function' ? inner.getRemainingTimeInMillis() : undefined
}

/**
 * Milliseconds the invocation has left, or `undefined` outside Lambda (no clock to respect). A
 * clock that answers something other than a finite number (a test double returning `NaN`) is
 * treated as no clock, with a one-time warning: a NaN deadline would make every bound NaN.
 */
export const remainingTimeMs = (context: unknown): number | undefined => {
  const value = readClock(context)
  if (value === undefined) return undefined
  if (typeof value === 'number' && Number.isFinite(value)) return value
  warnOnce(
    'MDD_BAD_CLOCK',
    `context.getRemainingTimeInMillis() returned ${typeof value === 'number' ? String(value) : typeof value}, not a finite number; the invocation runs without a deadline`,
  )
  return undefined
}

/** The invocation's request id and function name, for events; both optional outside Lambda. */
export const invocationIdsOf = (context: unknown): { awsRequestId?: string; functionName?: string } => {
  const inner = lambdaContextOf(context)
  const ids: { awsRequestId?: string; functionName?: string } = {}
  if (typeof inner?.awsRequestId === 'string') ids.awsRequestId = inner.awsRequestId
  // process.env is read only when the context has no name: each read is a call into the runtime.
  const functionName =
    typeof inner?.functionName === 'string' ? inner.functionName : process.env.AWS_LAMBDA_FUNCTION_NAME
  if (functionName !== undefined) ids.functionName = functionName
  return ids
}

/**
 * Properties of the Lambda context (and Middy's own) that a middleware's handle must never
 * replace: `contextKey: 'getRemainingTimeInMillis'` would break every deadline after it.
 */
export const reservedContextKeys: readonly string[] = [
  'awsRequestId',
  'callbackWaitsForEmptyEventLoop',
  'clientContext',
  'done',
  'fail',
  'functionName',
  'functionVersion',
  'getRemainingTimeInMillis',
  'identity',
  'invokedFunctionArn',
  'lambdaContext',
  'logGroupName',
  'logStreamName',
  'memoryLimitInMB',
  'succeed',
  'tenantId',
  'constructor',
  '__proto__',
  'toJSON',
  'toString',
  'valueOf',
  'hasOwnProperty',
]

/**
 * Sets a property on an object that may be frozen, sealed or have it read-only; reports whether
 * the value is now in place instead of throwing.
 */
export const trySet = (target: object | undefined, key: string, value: unknown): boolean => {
  if (!target) return false
  try {
    ;(target as Record<string, unknown>)[key] = value
  } catch {
    return false
  }
  return (target as Record<string, unknown>)[key] === value
}
