/** Socket error codes that mean the server could not be reached or the connection broke. */
const networkErrorCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  // ENOTFOUND is final for a typo, transient during a DNS blip: retrying inside the deadline is cheap.
  'ENOTFOUND',
  'EAI_AGAIN',
])

/**
 * Whether an error code is a network failure (refused, reset, unreachable, timed out), as opposed
 * to an answer from the server.
 *
 * @example
 * if (isNetworkErrorCode(error.code)) return 'network'
 */
export const isNetworkErrorCode = (code: unknown): boolean =>
  typeof code === 'string' && networkErrorCodes.has(code)
