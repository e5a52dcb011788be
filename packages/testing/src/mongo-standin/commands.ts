import { Binary, type Document } from 'bson'
import { runPipeline } from './aggregate.js'
import type { Cursors } from './cursors.js'
import { authFailed, badValue, CommandError, errorReply, ok } from './errors.js'
import { type Doc, isPlainObject, matches, project, sortDocs } from './match.js'
import { type ScramCredential, type ScramState, scramFinish, scramStart } from './scram.js'
import type { Store, UpdateSpec } from './store.js'

/** Per-connection state. */
export interface Connection {
  id: number
  user?: string
  scram?: ScramState
}

export interface ServerState {
  store: Store
  cursors: Cursors
  /** Present when authentication is required. */
  credentials?: Map<string, ScramCredential>
}

interface Call {
  cmd: Doc
  db: string
  /** The value of the command's first key: the collection name for CRUD commands. */
  coll: string
  conn: Connection
  state: ServerState
}

type Handler = (call: Call) => Document

const NO_AUTH_NEEDED = new Set([
  'hello',
  'ismaster',
  'saslstart',
  'saslcontinue',
  'ping',
  'buildinfo',
  'endsessions',
])

const num = (v: unknown): number => (v === undefined || v === null ? 0 : Number(String(v)))
const list = (v: unknown): Doc[] => (Array.isArray(v) ? v : [])
const payloadText = (v: unknown): string =>
  v instanceof Binary
    ? Buffer.from(v.buffer.subarray(0, v.position)).toString('utf8')
    : Buffer.from(v as Uint8Array).toString('utf8')
const binary = (text: string): Binary => new Binary(Buffer.from(text, 'utf8'))

/** Runs write items (insert docs, update or delete specs); failures become `writeErrors`. */
function writeLoop(
  items: Doc[],
  ordered: boolean,
  each: (item: Doc, index: number) => void,
): Doc[] | undefined {
  const writeErrors: Doc[] = []
  for (const [index, item] of items.entries()) {
    try {
      each(item, index)
    } catch (err) {
      if (!(err instanceof CommandError)) throw err
      writeErrors.push({ index, code: err.code, errmsg: err.message })
      if (ordered) break
    }
  }
  return writeErrors.length ? writeErrors : undefined
}

const hello: Handler = ({ cmd, conn, state }) =>
  ok({
    helloOk: true,
    ismaster: true,
    isWritablePrimary: true,
    maxBsonObjectSize: 16777216,
    maxMessageSizeBytes: 48000000,
    maxWriteBatchSize: 100000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: conn.id,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    // No topologyVersion: the driver's monitor then polls hello instead of streaming (exhaust) it.
    saslSupportedMechs:
      cmd.saslSupportedMechs !== undefined && state.credentials ? ['SCRAM-SHA-256'] : undefined,
  })

const handlers: Record<string, Handler> = {
  hello,
  ismaster: hello,
  ping: () => ok(),
  buildinfo: () =>
    ok({
      version: '7.0.0',
      versionArray: [7, 0, 0, 0],
      gitVersion: 'mongo-standin',
      bits: 64,
      maxBsonObjectSize: 16777216,
    }),
  getparameter: ({ cmd }) =>
    ok(
      cmd.featureCompatibilityVersion === undefined
        ? {}
        : { featureCompatibilityVersion: { version: '7.0' } },
    ),
  endsessions: () => ok(),
  // MongoDB's test command `{ sleep: 1, millis }`: the server answers it `millis` later (server.ts).
  sleep: () => ok(),

  saslstart: ({ cmd, conn, state }) => {
    if (!state.credentials) throw authFailed()
    if (cmd.mechanism !== 'SCRAM-SHA-256') {
      const message = `Received authentication for mechanism ${String(cmd.mechanism)} which is not enabled`
      throw new CommandError(334, 'MechanismUnavailable', message)
    }
    conn.scram = scramStart(payloadText(cmd.payload), state.credentials)
    return ok({ conversationId: 1, done: false, payload: binary(conn.scram.serverFirst) })
  },
  saslcontinue: ({ cmd, conn }) => {
    const scram = conn.scram
    conn.scram = undefined
    if (!scram) throw new CommandError(17, 'ProtocolError', 'No SASL session state found')
    const serverFinal = scramFinish(scram, payloadText(cmd.payload))
    conn.user = scram.user
    return ok({ conversationId: 1, done: true, payload: binary(serverFinal) })
  },

  find: ({ cmd, db, coll, state }) => {
    const skip = num(cmd.skip)
    const limit = Math.abs(num(cmd.limit))
    const docs = sortDocs(state.store.find(db, coll, cmd.filter as Doc), cmd.sort)
      .slice(skip, limit ? skip + limit : undefined)
      .map((d) => project(d, cmd.projection))
    const singleBatch = cmd.singleBatch === true || num(cmd.limit) < 0
    return ok({ cursor: state.cursors.first(`${db}.${coll}`, docs, cmd.batchSize, singleBatch) })
  },
  getmore: ({ cmd, state }) => ok({ cursor: state.cursors.next(num(cmd.getMore), cmd.batchSize) }),
  killcursors: ({ cmd, state }) => ok(state.cursors.kill(list(cmd.cursors).map(num))),
  aggregate: ({ cmd, db, coll, state }) => {
    if (typeof cmd.aggregate !== 'string')
      throw badValue('the stand-in only supports collection aggregations')
    const docs = runPipeline(state.store.find(db, coll), cmd.pipeline)
    const batchSize = isPlainObject(cmd.cursor) ? cmd.cursor.batchSize : undefined
    return ok({ cursor: state.cursors.first(`${db}.${coll}`, docs, batchSize) })
  },
  count: ({ cmd, db, coll, state }) => {
    const skip = num(cmd.skip)
    const limit = num(cmd.limit)
    const docs = state.store.find(db, coll, cmd.query as Doc).slice(skip, limit ? skip + limit : undefined)
    return ok({ n: docs.length })
  },

  insert: ({ cmd, db, coll, state }) => {
    let n = 0
    const writeErrors = writeLoop(list(cmd.documents), cmd.ordered !== false, (doc) => {
      state.store.insert(db, coll, doc)
      n++
    })
    return ok({ n, writeErrors })
  },
  update: ({ cmd, db, coll, state }) => {
    let n = 0
    let nModified = 0
    const upserted: Doc[] = []
    const writeErrors = writeLoop(list(cmd.updates), cmd.ordered !== false, (spec, index) => {
      const result = state.store.update(db, coll, spec as UpdateSpec)
      n += result.n
      nModified += result.nModified
      if (result.upsertedId !== undefined) upserted.push({ index, _id: result.upsertedId })
    })
    return ok({ n, nModified, upserted: upserted.length ? upserted : undefined, writeErrors })
  },
  delete: ({ cmd, db, coll, state }) => {
    let n = 0
    const writeErrors = writeLoop(list(cmd.deletes), cmd.ordered !== false, (spec) => {
      n += state.store.delete(db, coll, spec.q as Doc, num(spec.limit))
    })
    return ok({ n, writeErrors })
  },

  listcollections: ({ cmd, db, state }) => {
    const docs = state.store
      .collectionNames(db)
      .map((name) => ({ name, type: 'collection', options: {}, info: { readOnly: false } }))
      .filter((doc) => matches(doc, cmd.filter as Doc))
    const batchSize = isPlainObject(cmd.cursor) ? cmd.cursor.batchSize : undefined
    return ok({ cursor: state.cursors.first(`${db}.$cmd.listCollections`, docs, batchSize) })
  },
  create: ({ db, coll, state }) => {
    if (state.store.collection(db, coll)) {
      throw new CommandError(48, 'NamespaceExists', `Collection ${db}.${coll} already exists.`)
    }
    state.store.collection(db, coll, true)
    return ok()
  },
  drop: ({ db, coll, state }) => {
    state.store.drop(db, coll) // since 7.0 dropping a missing collection succeeds
    return ok({ ns: `${db}.${coll}`, nIndexesWas: 1 })
  },
  dropdatabase: ({ db, state }) => {
    state.store.dropDatabase(db)
    return ok({ dropped: db })
  },
  createindexes: ({ cmd, db, coll, state }) => {
    const existed = state.store.collection(db, coll) !== undefined
    state.store.collection(db, coll, true) // indexes are accepted and ignored
    const after = 1 + list(cmd.indexes).length
    return ok({ numIndexesBefore: 1, numIndexesAfter: after, createdCollectionAutomatically: !existed })
  },
}

/** The command's name as counted and dispatched: its first key, lowercased. */
export const commandName = (cmd: Doc): string => (Object.keys(cmd)[0] ?? '').toLowerCase()

/** Runs one command; never throws (failures become `{ ok: 0 }` replies). */
export function runCommand(cmd: Doc, conn: Connection, state: ServerState): Document {
  try {
    const name = commandName(cmd)
    const handler = Object.hasOwn(handlers, name) ? handlers[name] : undefined
    if (!handler) {
      const original = Object.keys(cmd)[0] ?? ''
      throw new CommandError(59, 'CommandNotFound', `no such command: '${original}'`)
    }
    if (state.credentials && !conn.user && !NO_AUTH_NEEDED.has(name)) {
      throw new CommandError(13, 'Unauthorized', `Command ${name} requires authentication`)
    }
    const first = cmd[Object.keys(cmd)[0]]
    return handler({ cmd, db: String(cmd.$db ?? 'admin'), coll: String(first), conn, state })
  } catch (err) {
    return errorReply(err)
  }
}
