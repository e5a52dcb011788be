import { badValue } from './errors.js'

export type Doc = Record<string, unknown>

const bsonType = (v: unknown): string | undefined =>
  typeof v === 'object' && v !== null && '_bsontype' in v
    ? String((v as { _bsontype: unknown })._bsontype)
    : undefined

export const isPlainObject = (v: unknown): v is Doc =>
  typeof v === 'object' &&
  v !== null &&
  (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)

const BSON_RANKS: Record<string, number> = {
  Long: 2,
  Int32: 2,
  Double: 2,
  Decimal128: 2,
  Binary: 6,
  ObjectId: 7,
  Timestamp: 10,
}

/** Canonical BSON sort order of types (numbers of different BSON types compare as numbers). */
function typeRank(v: unknown): number {
  if (v === undefined || v === null) return 1
  if (typeof v === 'number' || typeof v === 'bigint') return 2
  if (typeof v === 'string') return 3
  if (Array.isArray(v)) return 5
  if (typeof v === 'boolean') return 8
  if (v instanceof Date) return 9
  if (v instanceof RegExp) return 11
  if (v instanceof Uint8Array) return 6
  return BSON_RANKS[bsonType(v) ?? ''] ?? 4 // other objects
}

const toNumber = (v: unknown): number => (typeof v === 'object' ? Number(String(v)) : Number(v))

/** Total order over values, close enough to MongoDB's for sorting and range operators. */
export function compare(a: unknown, b: unknown): number {
  const ra = typeRank(a)
  const rb = typeRank(b)
  if (ra !== rb) return ra - rb
  if (ra === 1) return 0
  if (ra === 2) return Math.sign(toNumber(a) - toNumber(b))
  if (ra === 8) return Number(a) - Number(b)
  if (ra === 9) return Math.sign((a as Date).getTime() - (b as Date).getTime())
  if (ra === 4) return compare(Object.entries(a as Doc).flat(), Object.entries(b as Doc).flat())
  if (ra === 5) {
    const [x, y] = [a as unknown[], b as unknown[]]
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const c = compare(x[i], y[i])
      if (c !== 0) return c
    }
    return x.length - y.length
  }
  return compareStrings(String(a), String(b)) // strings, ObjectId (hex), binary, regex
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

export const valuesEqual = (a: unknown, b: unknown): boolean => compare(a, b) === 0

/** Reads a dotted path; through arrays it collects the elements' values (as MongoDB does). */
export function getPath(doc: unknown, path: string): unknown {
  let value: unknown = doc
  for (const key of path.split('.')) {
    if (Array.isArray(value) && !/^\d+$/.test(key)) {
      value = value.map((v) => (isPlainObject(v) ? v[key] : undefined)).filter((v) => v !== undefined)
    } else if (isPlainObject(value) || Array.isArray(value)) {
      value = (value as Doc)[key]
    } else {
      return undefined
    }
  }
  return value
}

/** True when the predicate holds for the value or, for arrays, for any element. */
const anyOf = (v: unknown, pred: (x: unknown) => boolean): boolean =>
  pred(v) || (Array.isArray(v) && v.some(pred))

const sameType = (a: unknown, b: unknown): boolean => typeRank(a) === typeRank(b)

const equalsOrRegex = (v: unknown, cond: unknown): boolean =>
  cond instanceof RegExp
    ? anyOf(v, (x) => typeof x === 'string' && cond.test(x))
    : anyOf(v, (x) => valuesEqual(x, cond))

const isOperatorObject = (cond: unknown): cond is Doc =>
  isPlainObject(cond) && Object.keys(cond).length > 0 && Object.keys(cond)[0].startsWith('$')

function matchOperator(v: unknown, op: string, arg: unknown, cond: Doc): boolean {
  const range = (test: (c: number) => boolean) => anyOf(v, (x) => sameType(x, arg) && test(compare(x, arg)))
  switch (op) {
    case '$eq':
      return equalsOrRegex(v, arg)
    case '$ne':
      return !equalsOrRegex(v, arg)
    case '$gt':
      return range((c) => c > 0)
    case '$gte':
      return range((c) => c >= 0)
    case '$lt':
      return range((c) => c < 0)
    case '$lte':
      return range((c) => c <= 0)
    case '$in':
    case '$nin': {
      if (!Array.isArray(arg)) throw badValue(`${op} needs an array`)
      const found = arg.some((a) => equalsOrRegex(v, a))
      return op === '$in' ? found : !found
    }
    case '$exists':
      return (v !== undefined) === Boolean(arg)
    case '$not':
      return !matchValue(v, arg)
    case '$size':
      return Array.isArray(v) && v.length === arg
    case '$regex': {
      const re = arg instanceof RegExp ? arg : new RegExp(String(arg), String(cond.$options ?? ''))
      return anyOf(v, (x) => typeof x === 'string' && re.test(x))
    }
    case '$options':
      return true
    default:
      throw badValue(`unknown operator: ${op}`)
  }
}

function matchValue(v: unknown, cond: unknown): boolean {
  if (isOperatorObject(cond))
    return Object.entries(cond).every(([op, arg]) => matchOperator(v, op, arg, cond))
  return equalsOrRegex(v, cond)
}

/** Evaluates a query filter against one document. */
export function matches(doc: Doc, filter: Doc | undefined): boolean {
  if (!filter) return true
  return Object.entries(filter).every(([key, cond]) => {
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (!Array.isArray(cond)) throw badValue(`${key} must be an array`)
      const hit = (f: unknown) => matches(doc, f as Doc)
      return key === '$and' ? cond.every(hit) : key === '$or' ? cond.some(hit) : !cond.some(hit)
    }
    if (key.startsWith('$')) throw badValue(`unknown top level operator: ${key}`)
    return matchValue(getPath(doc, key), cond)
  })
}

export function sortDocs(docs: Doc[], sort: unknown): Doc[] {
  if (!isPlainObject(sort) || Object.keys(sort).length === 0) return docs
  const keys = Object.entries(sort).map(([path, dir]) => [path, Number(dir) < 0 ? -1 : 1] as const)
  return [...docs].sort((a, b) => {
    for (const [path, dir] of keys) {
      const c = compare(getPath(a, path), getPath(b, path))
      if (c !== 0) return c * dir
    }
    return 0
  })
}

/** Top-level (or dotted) inclusion / exclusion projections. */
export function project(doc: Doc, projection: unknown): Doc {
  if (!isPlainObject(projection) || Object.keys(projection).length === 0) return doc
  const entries = Object.entries(projection)
  const inclusive = entries.some(([k, v]) => k !== '_id' && Boolean(v))
  if (!inclusive) {
    const out = { ...doc }
    for (const [k] of entries) delete out[k]
    return out
  }
  const out: Doc = {}
  if (projection._id === undefined || projection._id) out._id = doc._id
  for (const [k, v] of entries) {
    if (k !== '_id' && v && doc[k] !== undefined) out[k] = doc[k]
  }
  return out
}
