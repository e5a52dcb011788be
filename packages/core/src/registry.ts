import { crypto } from './builtins.js'

const entries = new Map<string, unknown>()

/** Functions are keyed by identity: two wrappers with the same name and length are different. */
const functionIds = new WeakMap<object, number>()
let nextFunctionId = 1
const functionId = (fn: object): number => {
  let id = functionIds.get(fn)
  if (id === undefined) {
    id = nextFunctionId++
    functionIds.set(fn, id)
  }
  return id
}

/**
 * A stable fingerprint of a config with its secrets left out, so two middlewares with the same
 * config share one client and two with different configs never do. Functions (a tracing
 * `createConnection`, a credentials provider) count by identity: the same function object gives
 * the same key, any other function another.
 *
 * @example
 * fingerprint('db', { host, user, database }) // 'db:3f2a…'
 */
export const fingerprint = (namespace: string, config: unknown): string => {
  const stable = (value: unknown): unknown => {
    if (typeof value === 'function') return `fn#${functionId(value)}`
    if (Array.isArray(value)) return value.map(stable)
    if (value instanceof Buffer)
      return `buffer:${crypto().createHash('sha256').update(value).digest('hex').slice(0, 12)}`
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((k) => [k, stable((value as Record<string, unknown>)[k])]),
      )
    }
    return value
  }
  const digest = crypto()
    .createHash('sha256')
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
