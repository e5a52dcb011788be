import type { Db, MongoClient } from 'mongodb'
import type { MongoReleasePolicy } from './options.js'

/**
 * What an invocation gets: the environment's client, its default database, and a deadline signal.
 * Each getter fails with `ReleasedError` once the invocation ended; a `db` or `client` the handler
 * already took out of the handle is the driver's own object and cannot be guarded.
 *
 * @example
 * const { db, signal } = context.mongo
 * await db.collection('orders').findOne({ id }, { signal })
 */
export interface MongoHandle {
  /** The environment's `MongoClient` (one per environment and config, shared by its invocations). */
  readonly client: MongoClient
  /** `client.db(dbName)`. */
  readonly db: Db
  /**
   * Aborts when the invocation's time (minus the margin) is up. Pass it to reads and commands
   * (`findOne(filter, { signal })`) to end one operation without closing the client.
   */
  readonly signal: AbortSignal
}

/**
 * A handle taken with `connect()` outside Middy; give it back with `release()`.
 *
 * @example
 * const lease = await mongo.connect()
 * try { await lease.db.collection('orders').insertOne(order) } finally { await lease.release() }
 */
export interface MongoLease extends MongoHandle {
  /** Gives the client back: kept for the next use (default policy) or closed. */
  release(disposition?: MongoReleasePolicy): Promise<void>
  /**
   * Reports an error that escaped an operation: returns the error to throw (typed when it means
   * the connection failed), and drops the client when it cannot be trusted any more.
   */
  fail(error: unknown): unknown
}

/** What the handle needs from its invocation scope. */
export interface HandleOwner {
  /** Throws `ReleasedError` naming `what` once the invocation ended. */
  assertLive(what: string): void
  readonly client: MongoClient
  readonly db: Db
  readonly signal: AbortSignal
  release(outcome: 'success' | 'error', disposition?: MongoReleasePolicy): Promise<void> | undefined
  fail(error: unknown): unknown
  /** What a logged handle shows: never the client (its options hold the password). */
  describe(): object
}

/** What a handle's getters are called in a `ReleasedError`: `context.mongo.db`. */
export interface HandleNames {
  readonly client: string
  readonly db: string
  readonly signal: string
}

/** The getter names for one context key, built once per connection, not on every access. */
export const handleNames = (contextKey: string): HandleNames => ({
  client: `context.${contextKey}.client`,
  db: `context.${contextKey}.db`,
  signal: `context.${contextKey}.signal`,
})

/**
 * The handle on `context.mongo` (and what `connect()` returns): a thin view of one invocation's
 * scope, checked on every access, that prints no secret.
 */
export class ScopedMongoHandle implements MongoLease {
  readonly #owner: HandleOwner
  readonly #names: HandleNames

  constructor(owner: HandleOwner, names: HandleNames) {
    this.#owner = owner
    this.#names = names
  }

  get client(): MongoClient {
    this.#owner.assertLive(this.#names.client)
    return this.#owner.client
  }

  get db(): Db {
    this.#owner.assertLive(this.#names.db)
    return this.#owner.db
  }

  get signal(): AbortSignal {
    this.#owner.assertLive(this.#names.signal)
    return this.#owner.signal
  }

  release = async (disposition?: MongoReleasePolicy): Promise<void> => {
    await this.#owner.release('success', disposition)
  }

  fail = (error: unknown): unknown => this.#owner.fail(error)

  toJSON(): object {
    return this.#owner.describe()
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `MongoHandle ${JSON.stringify(this.#owner.describe())}`
  }
}
