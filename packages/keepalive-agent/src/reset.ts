/** Error codes of a connection that the other side (or a middlebox) closed or reset. */
export const resetCodes: readonly string[] = ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']

/** Methods that may be sent twice with the same effect (RFC 9110, section 9.2.2). */
export const idempotentMethods: readonly string[] = ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']

export const isResetError = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && resetCodes.includes(code)
}

export const isIdempotent = (method: string | undefined): boolean =>
  idempotentMethods.includes((method ?? 'GET').toUpperCase())

/** A body that can be sent again as it is: none, a string or bytes (not a stream, already consumed). */
export const isReplayable = (body: unknown): boolean =>
  body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array
