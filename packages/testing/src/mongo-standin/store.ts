import { BSON } from 'bson'
import { CommandError } from './errors.js'
import { type Doc, matches, valuesEqual } from './match.js'
import { applyUpdate, upsertSeed, withId } from './update.js'

export interface UpdateSpec {
  q?: Doc
  u?: unknown
  upsert?: boolean
  multi?: boolean
}

export interface UpdateResult {
  n: number
  nModified: number
  upsertedId?: unknown
}

const sameBytes = (a: Doc, b: Doc): boolean => Buffer.from(BSON.serialize(a)).equals(BSON.serialize(b))

/**
 * In-memory databases of collections. Stored documents are never mutated in place (updates replace
 * them), so open cursors keep a stable snapshot.
 */
export class Store {
  private readonly dbs = new Map<string, Map<string, Doc[]>>()

  collection(db: string, name: string, create = false): Doc[] | undefined {
    const collections = this.dbs.get(db) ?? new Map<string, Doc[]>()
    const docs = collections.get(name) ?? []
    if (!create && !collections.has(name)) return undefined
    this.dbs.set(db, collections)
    collections.set(name, docs)
    return docs
  }

  collectionNames(db: string): string[] {
    return [...(this.dbs.get(db)?.keys() ?? [])]
  }

  drop(db: string, name: string): boolean {
    return this.dbs.get(db)?.delete(name) ?? false
  }

  dropDatabase(db: string): void {
    this.dbs.delete(db)
  }

  clear(): void {
    this.dbs.clear()
  }

  find(db: string, name: string, filter?: Doc): Doc[] {
    return (this.collection(db, name) ?? []).filter((doc) => matches(doc, filter))
  }

  /** Inserts one document (an `_id` is generated when missing); a duplicate `_id` throws E11000. */
  insert(db: string, name: string, doc: Doc): Doc {
    const docs = this.collection(db, name, true)!
    const stored = withId(doc)
    if (docs.some((d) => valuesEqual(d._id, stored._id))) {
      const key = BSON.EJSON.stringify({ _id: stored._id }, { relaxed: true })
      throw new CommandError(
        11000,
        'DuplicateKey',
        `E11000 duplicate key error collection: ${db}.${name} index: _id_ dup key: ${key}`,
      )
    }
    docs.push(stored)
    return stored
  }

  update(db: string, name: string, spec: UpdateSpec): UpdateResult {
    const docs = this.collection(db, name) ?? []
    let n = 0
    let nModified = 0
    for (let i = 0; i < docs.length; i++) {
      if (!matches(docs[i], spec.q)) continue
      const next = applyUpdate(docs[i], spec.u)
      n++
      if (!sameBytes(docs[i], next)) {
        docs[i] = next
        nModified++
      }
      if (!spec.multi) break
    }
    if (n > 0 || !spec.upsert) return { n, nModified }
    const inserted = this.insert(db, name, applyUpdate(upsertSeed(spec.q ?? {}), spec.u, true))
    return { n: 1, nModified: 0, upsertedId: inserted._id }
  }

  /** Deletes matching documents; `limit` 1 deletes only the first. */
  delete(db: string, name: string, filter: Doc | undefined, limit: number): number {
    const docs = this.collection(db, name)
    if (!docs) return 0
    let n = 0
    for (let i = 0; i < docs.length; ) {
      if ((limit === 0 || n < limit) && matches(docs[i], filter)) {
        docs.splice(i, 1)
        n++
      } else {
        i++
      }
    }
    return n
  }
}
