const warned = new Set<string>()

/**
 * Writes a warning once per environment (process) for a given key, so a warm environment does
 * not repeat itself on every invocation.
 */
export const warnOnce = (key: string, message: string): void => {
  if (warned.has(key)) return
  warned.add(key)
  process.emitWarning(message, { code: key, type: 'MiddyDownstreamWarning' })
}
