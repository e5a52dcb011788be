import {
  ClientPool,
  ClosedError,
  createLookup,
  Deadline,
  DeadlineGuard,
  EventSink,
  fingerprint,
  type LifecycleCounters,
  redact,
  registryDelete,
  registryGet,
  rememberSecret,
  Scope,
  validateOptions,
  yieldToEventLoop,
} from '@middy-downstream/core'
import { type Db, MongoClient as DriverMongoClient, type MongoClient, type MongoClientOptions } from 'mongodb'
import { closedBecause, dbOf, destroyClient, mongoAdapter, noteClosing } from './adapter.js'
import { hasLeftovers } from './driver-internals.js'
import { classifyMongoError, wrapMongoError } from './errors.js'
import {
  type HandleNames,
  type HandleOwner,
  handleNames,
  type MongoLease,
  ScopedMongoHandle,
} from './handle.js'
import {
  checkPoolSizes,
  defaults,
  lambdaClientDefaults,
  type MongoClientConstructor,
  type MongoConnectionOptions,
  type MongoCredentials,
  type MongoReleasePolicy,
  packageName,
  type ResolvedOptions,
  schema,
  urlCredentials,
  urlOptionNames,
} from './options.js'
import { Roster, type RosterEntry } from './roster.js'

interface Shared {
  pool: ClientPool<MongoClient>
  events: EventSink
  /** When an invocation last gave the client back: the idle gap a freeze hides in. */
  lastReleasedAt: number
  /** Invocations holding the client now (several on Lambda Managed Instances). */
  holders: Roster<InvocationScope>
  /**
   * Core's deadline guard over the holders' deadlines: it fires when every one of them passed, so
   * one invocation's deadline never closes the client under another's work.
   */
  guard: DeadlineGuard
}

/** After an idle gap this long, give the driver one more event-loop turn before the handler runs. */
const settleAfterIdleMs = 1_000

/** A guard that fires this late slept through a freeze: the invocations it guarded are over. */
const lateToleranceMs = 1_000

/**
 * The holders' deadlines all passed: each holder still running with `closeAtDeadline` gets its
 * client closed, so operations stuck on a dead socket end now.
 */
const expireHolders = (shared: Shared, dueAt: number): void => {
  if (Date.now() - dueAt > lateToleranceMs) return
  for (const scope of shared.holders.values()) scope.closeAtDeadline()
}

const driverIds = new WeakMap<object, number>()
let nextDriverId = 1
const driverId = (driverClass: object): number => {
  if (!driverIds.has(driverClass)) driverIds.set(driverClass, nextDriverId++)
  return driverIds.get(driverClass)!
}

/** Option names whose values are secrets: left out of the config fingerprint. */
const secretOptionNames = /password|passphrase|secret|token|^key$|^autoEncryption$/i

// One lookup function per bound, so equal configs keep equal fingerprints (functions count by identity).
const lookups = new Map<number, ReturnType<typeof createLookup>>()
const lookupWithin = (timeoutMs: number): ReturnType<typeof createLookup> => {
  const known = lookups.get(timeoutMs)
  if (known) return known
  const lookup = createLookup(timeoutMs)
  lookups.set(timeoutMs, lookup)
  return lookup
}

const withoutSecrets = (clientOptions: MongoClientOptions): Record<string, unknown> => {
  const copy: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(clientOptions)) {
    if (name === 'auth' && value && typeof value === 'object')
      copy.auth = { username: (value as MongoCredentials).username }
    else copy[name] = secretOptionNames.test(name) ? '[secret]' : value
  }
  return copy
}

const never = (): boolean => false

/**
 * One invocation's use of the environment's client: core's `Scope` (released exactly once, no
 * use after release), the handle, and the deadline guard that closes the client if the invocation
 * is still running at its deadline.
 */
class InvocationScope implements HandleOwner {
  readonly lease: Scope<MongoClient>
  readonly handle: MongoLease
  private current?: MongoClient
  /** Its place among the connection's open scopes (set by `begin`) and among the client's holders. */
  leaseEntry?: RosterEntry<InvocationScope>
  private holderEntry?: RosterEntry<InvocationScope>
  private signalMemo?: AbortSignal
  private done = false
  private holding = false
  /**
   * The guard may close the client for this invocation: `closeAtDeadline`, a deadline, and time
   * left when it took the client (started with less than marginMs left, closing a healthy client
   * would only cost the next invocation a reconnect; Lambda's own timeout is the bound then).
   */
  private guarded = false

  constructor(
    private readonly connection: MongoConnection,
    private readonly shared: Shared,
    readonly deadline: Deadline,
    /** True once the invocation ended without reaching `after`/`onError` (a Middy early return). */
    private readonly ended: () => boolean = never,
    invocation?: { awsRequestId?: string; functionName?: string },
  ) {
    this.lease = new Scope(shared.pool, deadline, invocation ? { packageName, invocation } : { packageName })
    this.handle = new ScopedMongoHandle(this, connection.handleNames)
  }

  assertLive(what: string): void {
    this.lease.assertLive(what)
  }

  get client(): MongoClient {
    if (!this.current) {
      throw new ClosedError(
        `${packageName}: the client is not connected yet; it is available once the middleware's before has run`,
        { package: packageName },
      )
    }
    return this.current
  }

  get db(): Db {
    return dbOf(this.client, this.connection.options.dbName)
  }

  get signal(): AbortSignal {
    this.signalMemo ??= this.deadline.bounded
      ? AbortSignal.timeout(Math.max(1, Math.floor(this.deadline.remaining())))
      : new AbortController().signal
    return this.signalMemo
  }

  describe(): object {
    return {
      package: packageName,
      dbName: this.connection.options.dbName,
      released: this.lease.released,
      clientId: this.lease.clientId,
    }
  }

  /**
   * Opens, validates or reuses the client, then arms the deadline guard. A client used a moment
   * ago (back-to-back invocations) is returned as is, without a promise.
   */
  acquire(): MongoClient | Promise<MongoClient> {
    const idleMs = Date.now() - this.shared.lastReleasedAt
    // The handler's operations are invisible to the scope: its sockets stay referenced until
    // release. Held before the client is taken, so core references them once as it hands it over,
    // rather than unreferencing them there and referencing them again here.
    this.lease.hold()
    const now = idleMs > settleAfterIdleMs ? undefined : this.lease.clientNow()
    return now === undefined ? this.acquireSlowly(idleMs) : this.start(now)
  }

  private async acquireSlowly(idleMs: number): Promise<MongoClient> {
    const client = await this.lease.client()
    // Core yielded once, so a FIN that arrived during a freeze has been read; the driver only
    // learns that the socket is gone at its 'close', a turn later. Back-to-back invocations skip
    // this (~20 µs); it narrows, not closes, the window: the ping after validateAfterIdleMs does.
    if (idleMs > settleAfterIdleMs) await yieldToEventLoop()
    return this.start(client)
  }

  /** The client is this invocation's: the deadline guard counts it. */
  private start(client: MongoClient): MongoClient {
    this.current = client
    if (!this.holding && !this.done) {
      this.holding = true
      this.guarded =
        this.connection.options.closeAtDeadline && this.deadline.bounded && !this.deadline.expired
      this.holderEntry = this.shared.holders.add(this)
      this.shared.guard.enter(this.deadline)
    }
    return client
  }

  /**
   * Gives the client back, once. A promise only when there is something to wait for (a close, a
   * reset): a kept client is given back at once, without a turn.
   */
  release(
    outcome: 'success' | 'error',
    disposition = this.connection.options.release,
  ): Promise<void> | undefined {
    if (this.done) return undefined
    this.done = true
    this.connection.forget(this)
    if (this.holding) {
      if (this.holderEntry) this.shared.holders.delete(this.holderEntry)
      this.holderEntry = undefined
      this.shared.guard.leave(this.deadline)
    }
    this.holding = false
    if (!this.lease.acquired) return this.lease.release(disposition, outcome)
    const clientId = this.lease.clientId
    // A cursor or session left open: core resets the client (closes them) if no one else holds it.
    if (this.current && hasLeftovers(this.current)) this.lease.dirty = true
    const pending = this.lease.release(disposition, outcome)
    const announce = () => {
      this.shared.lastReleasedAt = Date.now()
      this.shared.events.emit(
        { type: 'release', clientId, action: disposition, reason: outcome },
        this.lease.info.invocation,
      )
    }
    if (pending !== undefined) return pending.then(announce)
    announce()
    return undefined
  }

  fail(error: unknown): unknown {
    const { options } = this.connection
    const failure = classifyMongoError(error)
    // Rejected credentials: the next use builds a client with freshly provided ones.
    if (failure === 'authentication' && this.current && this.shared.pool.clients.includes(this.current)) {
      this.lease.discard('authentication-failed')
    }
    if (!options.wrapErrors) return error
    const wrapped = wrapMongoError(error, {
      deadline: this.deadline,
      closedBecause: closedBecause(this.current),
      marginMs: options.marginMs,
    })
    if (wrapped !== error) {
      const { name, message, code } = wrapped as { name: string; message: string; code?: string | number }
      this.shared.events.emit(
        {
          type: 'error',
          clientId: this.lease.clientId,
          reason: failure,
          error: { name, message, ...(code === undefined ? {} : { code }) },
        },
        this.lease.info.invocation,
      )
    }
    return wrapped
  }

  /**
   * Core's deadline guard fired: every holder's deadline passed. This client is shared and the
   * handler's operations are invisible, so the scope decides whether the invocation is still
   * running (not returned early) and wants its client closed at the deadline.
   */
  closeAtDeadline(): void {
    const client = this.current
    if (this.done || !this.guarded || !client || this.ended()) return
    // Closed already: by another holder's turn, an earlier firing, or for another reason.
    if (closedBecause(client) !== undefined) return
    noteClosing(client, 'deadline')
    if (this.shared.pool.clients.includes(client)) this.lease.discard('deadline')
    else destroyClient(client, 'deadline')
  }
}

/**
 * The environment's managed `MongoClient` for one config, usable without Middy. Every
 * `MongoConnection` with the same config (secrets aside) shares one client and one pool.
 *
 * @example
 * import { createMongoConnection } from '@middy-downstream/mongo-connection'
 *
 * const mongo = createMongoConnection({ url: process.env.MONGO_URL, dbName: 'app' })
 * const lease = await mongo.connect(Deadline.fromContext(context, 500)) // Deadline: re-exported
 * try {
 *   await lease.db.collection('orders').insertOne({ total: 42 })
 * } catch (error) {
 *   throw lease.fail(error)
 * } finally {
 *   await lease.release()
 * }
 */
export class MongoConnection {
  /** The config fingerprint (no secrets) that keys the environment's client. */
  readonly key: string
  readonly options: ResolvedOptions
  /** @internal */
  readonly handleNames: HandleNames
  private readonly leases = new Roster<InvocationScope>()
  private readonly createShared: () => Shared
  private disposed = false

  constructor(options: MongoConnectionOptions<string>) {
    validateOptions(packageName, schema, options)
    if (options?.url === undefined) {
      throw new TypeError(
        `${packageName}: option "url" is required: a mongodb:// or mongodb+srv:// connection string`,
      )
    }
    const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined))
    const settings = { ...defaults, clientOptions: {}, ...given } as ResolvedOptions
    this.options = settings
    this.handleNames = handleNames(settings.contextKey)
    const { url, auth } = settings
    const inUrl = urlCredentials(url)
    rememberSecret(inUrl?.password)
    rememberSecret(settings.clientOptions.auth?.password)
    rememberSecret(settings.clientOptions.tlsCertificateKeyFilePassword)
    if (auth && inUrl) {
      throw new TypeError(
        `${packageName}: the url and option "auth" both carry credentials; give them in one place only`,
      )
    }
    if (auth && typeof auth === 'object') rememberSecret(auth.password)
    const MongoClient: MongoClientConstructor = settings.MongoClient ?? DriverMongoClient

    // Lambda defaults apply where neither the url nor clientOptions set the option.
    const named = urlOptionNames(url)
    const base: Record<string, unknown> = {}
    for (const [name, value] of Object.entries(lambdaClientDefaults)) {
      if (!named.has(name.toLowerCase())) base[name] = value
    }
    const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME
    if (functionName && !named.has('appname')) base.appName = functionName
    // Host names resolved by core's resolveHost (hosts file, then c-ares with a TTL cache), not
    // dns.lookup, which waits for libuv's threadpool and stalls under Lambda Managed Instances.
    // The driver hands `lookup` to net/tls.connect with the name as host: TLS still checks the
    // certificate against the name. A `lookup` of the user's wins.
    base.lookup = lookupWithin(
      settings.clientOptions.connectTimeoutMS ?? lambdaClientDefaults.connectTimeoutMS,
    )
    const clientBase: MongoClientOptions = { ...base, ...settings.clientOptions }
    checkPoolSizes(clientBase)

    // A provider's user name arrives with its password, when a new client is made.
    let providedUser: string | undefined
    const secret =
      typeof auth === 'function'
        ? async () => {
            const credentials = await auth()
            if (typeof credentials?.username !== 'string' || typeof credentials?.password !== 'string') {
              throw new TypeError(
                `${packageName}: the auth provider must return { username, password } strings`,
              )
            }
            providedUser = credentials.username
            return credentials.password
          }
        : auth?.password
    const clientOptions = (password: string | undefined): MongoClientOptions => {
      if (!auth) return clientBase
      const username = typeof auth === 'function' ? providedUser : auth.username
      return { ...clientBase, auth: { ...clientBase.auth, username, password } }
    }

    // Fail at construction, not at the first invocation, on options the driver rejects. No I/O.
    try {
      void new MongoClient(url, typeof auth === 'function' ? clientBase : clientOptions(auth?.password))
    } catch (error) {
      throw new TypeError(
        `${packageName}: the driver rejected option "url" or "clientOptions": ${redact(String((error as Error)?.message ?? error))}`,
      )
    }

    this.key = fingerprint('mongo', {
      driver: driverId(MongoClient),
      url: redact(url),
      dbName: settings.dbName,
      auth: typeof auth === 'function' ? auth : auth?.username,
      clientOptions: withoutSecrets(clientBase),
      eager: settings.eager,
      validateAfterIdleMs: settings.validateAfterIdleMs,
      validateTimeoutMs: settings.validateTimeoutMs,
      closeTimeoutMs: settings.closeTimeoutMs,
    })
    const key = this.key
    this.createShared = () => {
      const events = new EventSink(packageName, key)
      const adapter = mongoAdapter({ MongoClient, url, clientOptions, eager: settings.eager })
      const pool = new ClientPool<MongoClient>({
        packageName,
        adapter,
        events,
        secret,
        sharing: 'shared',
        maxClients: 1,
        // 0 means every reuse: core validates when idle for strictly longer than the threshold.
        validateAfterIdleMs: settings.validateAfterIdleMs === 0 ? -1 : settings.validateAfterIdleMs,
        validateTimeoutMs: settings.validateTimeoutMs,
        // An eager connect is one server selection: bounded like the driver bounds it.
        connectTimeoutMs:
          clientBase.serverSelectionTimeoutMS ?? lambdaClientDefaults.serverSelectionTimeoutMS,
        closeTimeoutMs: settings.closeTimeoutMs,
        retry: { strategy: 'decorrelated', baseMs: 50, capMs: 1_000, maxAttempts: 3 },
      })
      const shared: Shared = {
        pool,
        events,
        lastReleasedAt: 0,
        holders: new Roster(),
        guard: new DeadlineGuard((dueAt) => expireHolders(shared, dueAt)),
      }
      return shared
    }
  }

  /** Lifecycle events and running counters of the environment's client for this config. */
  get events(): EventSink {
    return this.shared().events
  }

  get counters(): LifecycleCounters {
    return this.events.counters
  }

  /**
   * Starts one invocation's use without I/O; `acquire()` on the result opens or validates.
   * Used by the middleware; `connect()` is the one-call form.
   *
   * @internal
   */
  begin(
    deadline: Deadline,
    ended?: () => boolean,
    invocation?: { awsRequestId?: string; functionName?: string },
  ): InvocationScope {
    if (this.disposed) {
      throw new ClosedError(`${packageName}: the connection was disposed`, { package: packageName })
    }
    const scope = new InvocationScope(this, this.shared(), deadline, ended, invocation)
    scope.leaseEntry = this.leases.add(scope)
    return scope
  }

  /**
   * Takes the client for one unit of work: opened (eager) or created (lazy) on first use,
   * pinged after an idle gap, replaced when dead. Give it back with `release()`.
   *
   * @example
   * const lease = await mongo.connect(Deadline.fromContext(context, 500))
   * await lease.db.collection('orders').findOne({ _id })
   * await lease.release()
   */
  async connect(deadline: Deadline = Deadline.none()): Promise<MongoLease> {
    const scope = this.begin(deadline)
    try {
      await scope.acquire()
    } catch (error) {
      await scope.release('error')
      throw error
    }
    return scope.handle
  }

  /**
   * Gives back every lease taken with `connect()` and not yet released.
   *
   * @example
   * await mongo.release()
   */
  async release(disposition?: MongoReleasePolicy): Promise<void> {
    await Promise.all(this.leases.values().map((scope) => scope.release('success', disposition)))
  }

  /**
   * Closes the environment's client for this config for good, bounded in time. This object
   * then refuses new work; a new `MongoConnection` (or the middleware's next invocation) starts
   * a fresh client.
   *
   * @example
   * process.on('SIGTERM', () => mongo.dispose())
   */
  async dispose(): Promise<void> {
    this.disposed = true
    await this.release()
    const shared = this.shared()
    registryDelete(this.key)
    shared.guard.dispose()
    await shared.pool.dispose()
  }

  /** What a logged connection shows: its key and database, never the url or credentials. */
  toJSON(): object {
    return { package: packageName, key: this.key, dbName: this.options.dbName, disposed: this.disposed }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `MongoConnection ${JSON.stringify(this.toJSON())}`
  }

  /** @internal */
  forget(scope: InvocationScope): void {
    if (scope.leaseEntry) this.leases.delete(scope.leaseEntry)
  }

  private shared(): Shared {
    const shared = registryGet(this.key, this.createShared)
    // A listener is added once per sink (the sink keeps a set), also after a dispose replaced it.
    shared.events.subscribe(this.options.onEvent)
    return shared
  }
}

export type { MongoHandle } from './handle.js'
export type { InvocationScope, MongoLease }

/**
 * Builds a `MongoConnection`: the non-Middy way to the same managed client.
 *
 * @example
 * const mongo = createMongoConnection({ url: process.env.MONGO_URL, dbName: 'app' })
 * const { db, release } = await mongo.connect()
 * await db.collection('orders').countDocuments()
 * await release()
 */
export const createMongoConnection = (options: MongoConnectionOptions<string>): MongoConnection =>
  new MongoConnection(options)
