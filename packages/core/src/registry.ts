import { createHash } from 'node:crypto'

const entries = new Map<string, unknown>()

/**
 * A stable fingerprint of a config with its secrets left out, so two middlewares with the same
 * config share one client and two with different configs never do.
 *
 * @example
 * fingerprint('db', { host, user, database }) // 'db:3f2a…'
 */
export const fingerprint = (namespace: string, config: unknown): string => {
  const stable = (value: unknown): unknown => {
    if (typeof value === 'function') return `fn:${value.name || 'anonymous'}:${value.toString().length}`
    if (Array.isArray(value)) return value.map(stable)
    if (value && typeof value === 'object' && !(value instanceof Buffer)) {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((k) => [k, stable((value as Record<string, unknown>)[k])]),
      )
    }
    if (value instanceof Buffer)
      return `buffer:${createHash('sha256').update(value).digest('hex').slice(0, 12)}`
    return value
  }
  const digest = createHash('sha256')
    .update(JSON.stringify(stable(config)))
    .digest('hex')
    .slice(0, 16)
  return `${namespace}:${digest}`
}

/**
 * Module-scope registry: one entry per key for the life of the environment, so warm invocations
 * reuse it.
 */
export const registryGet = <T>(key: string, create: () => T): T => {
  if (!entries.has(key)) entries.set(key, create())
  return entries.get(key) as T
}

export const registryDelete = (key: string): void => {
  entries.delete(key)
}

export const registryValues = (): unknown[] => [...entries.values()]
