import { Long } from 'bson'
import { CommandError } from './errors.js'
import type { Doc } from './match.js'

interface OpenCursor {
  ns: string
  docs: Doc[]
}

const DEFAULT_FIRST_BATCH = 101

/** Server-side cursors: the remaining documents of a find/aggregate, handed out by getMore. */
export class Cursors {
  private readonly open = new Map<number, OpenCursor>()
  private nextId = 1

  /** The `cursor` sub-document of a find/aggregate reply; leftovers stay open unless singleBatch. */
  first(ns: string, docs: Doc[], batchSize: unknown, singleBatch = false): Doc {
    const size = typeof batchSize === 'number' && batchSize >= 0 ? batchSize : DEFAULT_FIRST_BATCH
    const firstBatch = docs.slice(0, size)
    let id = 0
    if (!singleBatch && docs.length > size) {
      id = this.nextId++
      this.open.set(id, { ns, docs: docs.slice(size) })
    }
    return { firstBatch, id: Long.fromNumber(id), ns }
  }

  next(id: number, batchSize: unknown): Doc {
    const cursor = this.open.get(id)
    if (!cursor) throw new CommandError(43, 'CursorNotFound', `cursor id ${id} not found`)
    const size = typeof batchSize === 'number' && batchSize > 0 ? batchSize : cursor.docs.length
    const nextBatch = cursor.docs.splice(0, size)
    if (cursor.docs.length === 0) this.open.delete(id)
    return { nextBatch, id: Long.fromNumber(this.open.has(id) ? id : 0), ns: cursor.ns }
  }

  kill(ids: number[]): Doc {
    const killed = ids.filter((id) => this.open.delete(id))
    const notFound = ids.filter((id) => !killed.includes(id))
    return {
      cursorsKilled: killed.map((id) => Long.fromNumber(id)),
      cursorsNotFound: notFound.map((id) => Long.fromNumber(id)),
      cursorsAlive: [],
      cursorsUnknown: [],
    }
  }

  get size(): number {
    return this.open.size
  }

  clear(): void {
    this.open.clear()
  }
}
