import { reservedContextKeys } from './context.js'
import { aliasHint } from './option-aliases.js'

/** How one option is checked. Options not listed in a schema are rejected. */
export type OptionRule =
  | { type: 'boolean' }
  | { type: 'string'; nonEmpty?: boolean }
  | { type: 'number'; min?: number; max?: number; integer?: boolean }
  | { type: 'function' }
  | { type: 'object' }
  | { type: 'oneOf'; values: readonly unknown[] }
  | { type: 'stringOrFunction' }
  | { type: 'any' }
  | { type: 'custom'; expected: string; check: (value: unknown) => boolean }
  /**
   * A nested object (a driver's config): the listed fields are checked like options, named
   * `parent.field` in errors; other fields are the driver's business and pass through.
   */
  | { type: 'shape'; fields: OptionsSchema; description: string }

export type OptionsSchema = Record<string, OptionRule & { fix?: string }>

const secretName = /password|secret|token|passphrase|^key$/i

const describeValue = (value: unknown): string => {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value)
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`
  if (typeof value === 'string') return `a string of length ${value.length}`
  return typeof value
}

const expected = (rule: OptionRule): string => {
  switch (rule.type) {
    case 'number': {
      const range = [
        rule.integer ? 'an integer' : 'a number',
        rule.min === undefined ? '' : ` >= ${rule.min}`,
        rule.max === undefined ? '' : `${rule.min === undefined ? '' : ' and'} <= ${rule.max}`,
      ]
      return range.join('')
    }
    case 'oneOf':
      return `one of ${rule.values.map((v) => JSON.stringify(v)).join(', ')}`
    case 'stringOrFunction':
      return 'a string or a function'
    case 'custom':
      return rule.expected
    case 'string':
      return rule.nonEmpty ? 'a non-empty string' : 'a string'
    case 'object':
      return 'an object'
    case 'shape':
      return rule.description
    default:
      return `a ${rule.type}`
  }
}

const isValid = (rule: OptionRule, value: unknown): boolean => {
  switch (rule.type) {
    case 'boolean':
      return typeof value === 'boolean'
    case 'string':
      return typeof value === 'string' && (!rule.nonEmpty || value.length > 0)
    case 'number':
      return (
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (!rule.integer || Number.isInteger(value)) &&
        (rule.min === undefined || value >= rule.min) &&
        (rule.max === undefined || value <= rule.max)
      )
    case 'function':
      return typeof value === 'function'
    case 'object':
    case 'shape':
      return typeof value === 'object' && value !== null && !Array.isArray(value)
    case 'oneOf':
      return rule.values.includes(value)
    case 'stringOrFunction':
      return typeof value === 'string' || typeof value === 'function'
    case 'custom':
      return rule.check(value)
    case 'any':
      return true
  }
}

/** The closest known name by edit distance, for "did you mean" hints on typos. */
const closest = (name: string, known: string[]): string | undefined => {
  const distance = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i)
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0]!
      row[0] = i
      for (let j = 1; j <= b.length; j++) {
        const current = row[j]!
        row[j] = Math.min(
          row[j]! + 1,
          row[j - 1]! + 1,
          previous + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1),
        )
        previous = current
      }
    }
    return row[b.length]!
  }
  const ranked = known.map((k) => [k, distance(name, k)] as const).sort((x, y) => x[1] - y[1])
  const best = ranked[0]
  return best && best[1] <= Math.max(2, Math.floor(name.length / 3)) ? best[0] : undefined
}

/**
 * Checks options at construction time and throws a `TypeError` that names the option, what it
 * must be, and how to fix it. Values are described by type, never printed: an option may hold a
 * secret.
 *
 * @example
 * validateOptions('@middy-downstream/db-connection', { contextKey: { type: 'string', nonEmpty: true } }, options)
 */
export const validateOptions = (packageName: string, schema: OptionsSchema, options: unknown): void => {
  if (options === undefined) return
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${packageName}: options must be an object, got ${describeValue(options)}`)
  }
  checkFields(packageName, schema, options as Record<string, unknown>, '', false)
}

const checkFields = (
  packageName: string,
  schema: OptionsSchema,
  options: Record<string, unknown>,
  prefix: string,
  allowUnknown: boolean,
): void => {
  const known = Object.keys(schema)
  for (const [name, value] of Object.entries(options)) {
    // Own names only: `toString` or `constructor` are no options of anyone.
    const rule = Object.hasOwn(schema, name) ? schema[name] : undefined
    if (!rule) {
      if (allowUnknown) continue
      const near = closest(name, known)
      const hint = aliasHint(schema, name) ?? (near && `did you mean "${prefix}${near}"?`)
      throw new TypeError(
        `${packageName}: unknown option "${prefix}${name}"${hint ? ` (${hint})` : ''}; known options: ${known.join(', ')}`,
      )
    }
    if (value === undefined) continue
    if (!isValid(rule, value)) {
      // A secret's value is never described beyond its type, not even a number.
      const got = secretName.test(name) ? typeof value : describeValue(value)
      throw new TypeError(
        `${packageName}: option "${prefix}${name}" must be ${expected(rule)}, got ${got}${rule.fix ? `; ${rule.fix}` : ''}`,
      )
    }
    if (rule.type === 'shape') {
      checkFields(packageName, rule.fields, value as Record<string, unknown>, `${prefix}${name}.`, true)
    }
  }
}

/**
 * The rule for `contextKey`: a non-empty name that is not a property of the Lambda context
 * (`contextKey: 'getRemainingTimeInMillis'` would replace the clock every deadline reads).
 */
export const contextKeyRule: OptionRule & { fix: string } = {
  type: 'custom',
  expected: 'a non-empty name that is not a Lambda context property',
  check: (value) => typeof value === 'string' && value.length > 0 && !reservedContextKeys.includes(value),
  fix: `pick another name (not one of ${reservedContextKeys.join(', ')})`,
}

/** A TCP port: an integer from 1 to 65535 (a numeric string like "5432", as env vars give, too). */
export const portRule: OptionRule & { fix: string } = {
  type: 'custom',
  expected: 'an integer from 1 to 65535',
  check: (value) => {
    const port = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
    return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535
  },
  fix: 'pass the server port as a number, e.g. 3306',
}
