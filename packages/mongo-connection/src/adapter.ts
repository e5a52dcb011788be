import { type ConnectionAdapter, withTimeout } from '@middy-downstream/core'
import type { Db, MongoClient, MongoClientOptions } from 'mongodb'
import { closeLeftovers, type InternalTopology, setSocketsRef, topologyOf } from './driver-internals.js'
import { connectFailure } from './errors.js'
import type { MongoClientConstructor } from './options.js'
import { printAs } from './printing.js'

/** What this package knows about a client, from the driver's own topology events. */
interface ClientState {
  /** The driver began connecting it (explicitly or on a first operation). */
  connected: boolean
  /** Its topology was closed: by `close()`, by us, or after a failed connect. */
  closed: boolean
  /** The middleware closed it under running operations, and why. */
  closedBecause?: string
  db?: Db
}

const states = new WeakMap<MongoClient, ClientState>()

const stateOf = (client: MongoClient): ClientState => {
  let state = states.get(client)
  if (!state) {
    state = { connected: false, closed: false }
    states.set(client, state)
  }
  return state
}

/** Records why the middleware is about to close a client, for the errors of operations it cuts short. */
export const noteClosing = (client: MongoClient, reason: string): void => {
  stateOf(client).closedBecause ??= reason
}

/** The reason the middleware closed this client under running operations, if it did. */
export const closedBecause = (client: MongoClient | undefined): string | undefined =>
  client ? states.get(client)?.closedBecause : undefined

/** The client's `Db`, made once per client (`client.db()` builds a new object on every call). */
export const dbOf = (client: MongoClient, dbName: string | undefined): Db => {
  const state = stateOf(client)
  if (!state.db) {
    const db = client.db(dbName)
    state.db = printAs(db, () => ({ databaseName: db.databaseName }))
  }
  return state.db
}

/**
 * Drops a client's sockets now, in-use ones included, so operations stuck on a dead socket fail
 * at once; then closes the client in the background. `client.close()` alone would first end
 * sessions and cursors over the network, which takes up to `connectTimeoutMS` (several times
 * over) when the server is black-holed. The driver's topology is reached by feature detection;
 * without it this is `client.close()`.
 *
 * @example
 * destroyClient(client, 'validation-failed') // operations in flight reject at once
 */
export const destroyClient = (client: MongoClient, reason: string): void => {
  const state = stateOf(client)
  state.closedBecause ??= reason
  state.closed = true
  const topology: InternalTopology | undefined = topologyOf(client)
  // Sockets still closing must not hold the process meanwhile.
  setSocketsRef(client, false)
  try {
    topology?.closeCheckedOutConnections?.()
    topology?.close?.()
  } catch {
    // already closing
  }
  client.close().catch(() => {})
}

export interface AdapterSettings {
  MongoClient: MongoClientConstructor
  url: string
  /** Driver options for a new client; `password` comes from the credentials source. */
  clientOptions: (password: string | undefined) => MongoClientOptions
  eager: boolean
}

/**
 * The `ConnectionAdapter` core drives: one `MongoClient` per connect. Lazy (default): the client
 * is only constructed (no socket, no DNS) and the driver connects it on the first operation.
 * Eager: `connect()` runs inside the attempt's time.
 *
 * @example
 * const adapter = mongoAdapter({ MongoClient, url, clientOptions: () => ({ maxPoolSize: 2 }), eager: false })
 */
export const mongoAdapter = (settings: AdapterSettings): ConnectionAdapter<MongoClient> => ({
  connect: async ({ secret, timeoutMs }) => {
    const client = new settings.MongoClient(settings.url, settings.clientOptions(secret))
    const state = stateOf(client)
    // Its options hold the password: logged, it shows this instead.
    printAs(client, () => ({ connected: state.connected, closed: state.closed }))
    client.on('topologyOpening', () => {
      state.connected = true
    })
    client.on('topologyClosed', () => {
      state.closed = true
    })
    if (!settings.eager) return client
    try {
      await withTimeout(client.connect(), timeoutMs, () =>
        Object.assign(new Error(`connect timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }),
      )
      return client
    } catch (error) {
      destroyClient(client, 'connect failed')
      throw error
    }
  },
  // A client that never connected has nothing to check: pinging it would connect it.
  ping: (client) =>
    stateOf(client).connected ? client.db('admin').command({ ping: 1 }) : Promise.resolve(undefined),
  close: (client) => client.close(),
  destroy: (client) => destroyClient(client, 'destroyed'),
  isBroken: (client) => stateOf(client).closed,
  classifyConnectError: connectFailure,
  // Cursors and sessions a handler left open: closed before the client is kept for the next one.
  reset: (client) => closeLeftovers(client),
  setRef: (client, ref) => setSocketsRef(client, ref),
})
