import type { Context } from 'aws-lambda'

/**
 * The plain Lambda context behind a Middy request context. Middy 7's durable execution mode
 * passes a durable context that wraps the real one as `lambdaContext`.
 */
export const lambdaContextOf = (context: unknown): Partial<Context> | undefined => {
  if (typeof context !== 'object' || context === null) return undefined
  const inner = (context as { lambdaContext?: unknown }).lambdaContext
  return (typeof inner === 'object' && inner !== null ? inner : context) as Partial<Context>
}

/**
 * Milliseconds the invocation has left, or `undefined` outside Lambda (no clock to respect).
 */
export const remainingTimeMs = (context: unknown): number | undefined => {
  const direct = (context as Partial<Context> | undefined)?.getRemainingTimeInMillis
  if (typeof direct === 'function') return direct.call(context)
  const inner = lambdaContextOf(context)
  return typeof inner?.getRemainingTimeInMillis === 'function' ? inner.getRemainingTimeInMillis() : undefined
}

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
