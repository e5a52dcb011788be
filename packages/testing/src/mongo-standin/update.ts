import { BSON, ObjectId } from 'bson'
import { badValue, CommandError } from './errors.js'
import { type Doc, isPlainObject, valuesEqual } from './match.js'

/** Deep copy that keeps BSON classes (ObjectId, Long, Binary...). */
export const cloneDoc = (doc: Doc): Doc => BSON.deserialize(BSON.serialize(doc))

/** Returns the document with `_id` first, generating an ObjectId when it is missing. */
export function withId(doc: Doc): Doc {
  const { _id = new ObjectId(), ...rest } = doc
  return { _id, ...rest } // like mongod: `_id` becomes the first field
}

function parentOf(doc: Doc, path: string, create: boolean): [Doc | undefined, string] {
  const keys = path.split('.')
  const last = keys.pop()!
  let cur: Doc | undefined = doc
  for (const key of keys) {
    if (cur[key] === undefined && create) cur[key] = {}
    const next = cur[key]
    if (!isPlainObject(next) && !Array.isArray(next)) return [undefined, last]
    cur = next as Doc
  }
  return [cur, last]
}

function setPath(doc: Doc, path: string, value: unknown): void {
  const [parent, key] = parentOf(doc, path, true)
  if (!parent) throw new CommandError(28, 'PathNotViable', `Cannot create field '${key}' in '${path}'`)
  parent[key] = value
}

const isOperatorUpdate = (u: Doc): boolean => Object.keys(u).some((k) => k.startsWith('$'))

function applyOperators(doc: Doc, update: Doc, inserting: boolean): void {
  for (const [op, fields] of Object.entries(update)) {
    if (!isPlainObject(fields))
      throw new CommandError(9, 'FailedToParse', `Modifiers operate on fields: ${op}`)
    for (const [path, value] of Object.entries(fields)) {
      if (op === '$set' || (op === '$setOnInsert' && inserting)) {
        setPath(doc, path, value)
      } else if (op === '$unset') {
        const [parent, key] = parentOf(doc, path, false)
        if (parent) delete parent[key]
      } else if (op === '$inc') {
        const [parent, key] = parentOf(doc, path, false)
        const current = parent?.[key] ?? 0
        if (typeof current !== 'number' || typeof value !== 'number') {
          throw new CommandError(
            14,
            'TypeMismatch',
            `Cannot apply $inc to a value of non-numeric type at '${path}'`,
          )
        }
        setPath(doc, path, current + value)
      } else if (op === '$push') {
        const [parent, key] = parentOf(doc, path, false)
        const current = parent?.[key] ?? []
        if (!Array.isArray(current))
          throw new CommandError(2, 'BadValue', `The field '${path}' must be an array`)
        setPath(doc, path, [...current, value])
      } else if (op !== '$setOnInsert') {
        throw new CommandError(
          9,
          'FailedToParse',
          `Unknown modifier: ${op}. The stand-in supports $set, $unset, $inc, $push, $setOnInsert`,
        )
      }
    }
  }
}

/** Applies an update (replacement or operators) to a copy of `doc`; `_id` may not change. */
export function applyUpdate(doc: Doc, update: unknown, inserting = false): Doc {
  if (Array.isArray(update)) throw badValue('pipeline-style updates are not supported by the stand-in')
  if (!isPlainObject(update)) throw badValue('update must be a document')
  let next: Doc
  if (isOperatorUpdate(update)) {
    next = cloneDoc(doc)
    applyOperators(next, update, inserting)
  } else {
    next = doc._id === undefined ? cloneDoc(update) : { _id: doc._id, ...cloneDoc(update) }
  }
  if (doc._id !== undefined && !valuesEqual(doc._id, next._id)) {
    throw new CommandError(
      66,
      'ImmutableField',
      "Performing an update on the path '_id' would modify the immutable field '_id'",
    )
  }
  return withId(next)
}

/** The document an upsert starts from: the filter's top-level equality fields. */
export function upsertSeed(filter: Doc): Doc {
  const seed: Doc = {}
  for (const [key, cond] of Object.entries(filter)) {
    if (key.startsWith('$')) continue
    if (isPlainObject(cond) && Object.keys(cond)[0]?.startsWith('$')) {
      if ('$eq' in cond) setPath(seed, key, cond.$eq)
    } else {
      setPath(seed, key, cond)
    }
  }
  return seed
}
