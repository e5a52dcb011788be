import {
  contextKeyRule,
  type EventListener,
  type OptionRule,
  type OptionsSchema,
} from '@middy-downstream/core'
import type { MongoClient, MongoClientOptions } from 'mongodb'

/**
 * This package's name, as it appears in errors (`error.package`) and events (`event.package`).
 *
 * @example
 * if (error instanceof DownstreamError && error.package === packageName) metrics.count('mongo-failure')
 */
export const packageName = '@middy-downstream/mongo-connection'

/**
 * A user name and password for the client's `auth` option.
 *
 * @example
 * const auth: MongoCredentials = { username: 'app', password: process.env.MONGO_PASSWORD! }
 */
export interface MongoCredentials {
  username: string
  password: string
}

/**
 * Credentials as a value, or a provider called for each new client (rotated secrets).
 *
 * @example
 * const auth: MongoCredentialsSource = async () => JSON.parse(await getSecret('mongo/app'))
 */
export type MongoCredentialsSource = MongoCredentials | (() => MongoCredentials | Promise<MongoCredentials>)

/**
 * A `MongoClient` class: the `mongodb` peer's by default, or another major's (driver 6 and 7
 * both work).
 *
 * @example
 * import { MongoClient } from 'mongodb'
 * mongoConnection({ url, MongoClient: MongoClient satisfies MongoClientConstructor })
 */
export type MongoClientConstructor = new (url: string, options?: MongoClientOptions) => MongoClient

/**
 * What happens to the client after each invocation: kept for the next one, or closed.
 *
 * @example
 * mongoConnection({ url, release: 'close' satisfies MongoReleasePolicy })
 */
export type MongoReleasePolicy = 'keep' | 'close'

/**
 * Options of `mongoConnection` and `createMongoConnection`; only `url` is required.
 *
 * @example
 * const options: MongoConnectionOptions = {
 *   url: 'mongodb+srv://cluster0.example.mongodb.net/',
 *   dbName: 'shop',
 *   auth: async () => ({ username: 'app', password: await fetchPassword() }),
 *   clientOptions: { appName: 'orders-api' },
 * }
 */
export interface MongoConnectionOptions<K extends string = 'mongo'> {
  /** `mongodb://` or `mongodb+srv://` connection string. A password in it never reaches errors or events. */
  url: string
  /** The database on `context.mongo.db`. Default: the one in `url`, else the driver's default (`test`). */
  dbName?: string
  /**
   * User name and password, merged into the client's `auth` option, as a value or a provider
   * called for each new client (and once more after an authentication failure).
   */
  auth?: MongoCredentialsSource
  /** Passed to `new MongoClient(url, options)` over the Lambda defaults (TLS options go here). */
  clientOptions?: MongoClientOptions
  /** The driver's `MongoClient` class. Default: the one of the `mongodb` peer dependency. */
  MongoClient?: MongoClientConstructor
  /** Where the handle goes on the context. Default `mongo`. */
  contextKey?: K
  /**
   * `false` (default): the client is created in `before` without any I/O and the driver connects
   * it on the first operation. `true`: connect in `before`, with retries inside the deadline.
   */
  eager?: boolean
  /** After each invocation: `keep` the client for the next one (default) or `close` it. */
  release?: MongoReleasePolicy
  /** A client idle for longer than this is pinged before the handler runs (0: on every reuse). Default 10000. */
  validateAfterIdleMs?: number
  /** The longest that ping may take before the client is replaced. Default 1000. */
  validateTimeoutMs?: number
  /** The longest a graceful close may take before the sockets are dropped. Default 1000. */
  closeTimeoutMs?: number
  /** Milliseconds kept back from the invocation's remaining time. Default 500. */
  marginMs?: number
  /**
   * Close the client when an invocation that holds it is still running `marginMs` before its
   * timeout, so a stuck operation fails now with a `DeadlineError`. Default `true`.
   */
  closeAtDeadline?: boolean
  /** Turn the driver's connection errors that reach `onError` into this suite's typed errors. Default `true`. */
  wrapErrors?: boolean
  /** Lifecycle events (`open`, `reuse`, `validate`, `release`, `close`, `error`, ...). Never contain secrets. */
  onEvent?: EventListener
}

/** The options once defaults are applied. */
export type ResolvedOptions = Required<
  Omit<MongoConnectionOptions<string>, 'dbName' | 'auth' | 'onEvent' | 'MongoClient'>
> &
  Pick<MongoConnectionOptions<string>, 'dbName' | 'auth' | 'onEvent' | 'MongoClient'>

/**
 * Lifecycle defaults of the middleware.
 *
 * @example
 * mongoConnection({ url, validateAfterIdleMs: defaults.validateAfterIdleMs * 2 })
 */
export const defaults = {
  contextKey: 'mongo',
  eager: false,
  release: 'keep',
  validateAfterIdleMs: 10_000,
  validateTimeoutMs: 1_000,
  closeTimeoutMs: 1_000,
  marginMs: 500,
  closeAtDeadline: true,
  wrapErrors: true,
} as const

/**
 * Driver options for a Lambda environment: one invocation at a time, frozen between invocations.
 * Each applies unless the `url` or `clientOptions` set it.
 *
 * - `maxPoolSize: 2` instead of 100: one invocation uses one connection, a second covers a
 *   `Promise.all` or an open cursor; every extra connection is multiplied by the fleet's concurrency
 *   against the server's connection limit.
 * - `minPoolSize: 0`: nothing is reopened in the background after a thaw.
 * - `connectTimeoutMS: 3000` instead of 30000: also the monitor's heartbeat timeout, so a server
 *   that went silent during a freeze is noticed (and in-use connections interrupted) within ~3 s of
 *   the first overdue heartbeat instead of ~30 s.
 * - `serverSelectionTimeoutMS: 5000` instead of 30000: an unreachable server fails an operation
 *   in 5 s (the deadline guard bounds it by the invocation's remaining time as well).
 * - `serverMonitoringMode: 'poll'`: one monitoring connection, no streaming hello and no extra RTT
 *   connection (what the driver picks by itself when it detects Lambda).
 *
 * @example
 * new MongoClient(url, { ...lambdaClientDefaults, tls: true })
 */
export const lambdaClientDefaults = {
  maxPoolSize: 2,
  minPoolSize: 0,
  connectTimeoutMS: 3_000,
  serverSelectionTimeoutMS: 5_000,
  serverMonitoringMode: 'poll',
} as const satisfies MongoClientOptions

const isCredentials = (value: unknown): boolean =>
  typeof value === 'function' ||
  (typeof value === 'object' &&
    value !== null &&
    typeof (value as MongoCredentials).username === 'string' &&
    typeof (value as MongoCredentials).password === 'string')

const count = { type: 'number', integer: true, min: 0 } as const satisfies OptionRule
const path = { type: 'string', nonEmpty: true } as const satisfies OptionRule

/**
 * Driver options the driver itself accepts with a wrong type and misbehaves on later (a number
 * for a file path, a password that is not a string, a fractional pool size): checked here.
 * The driver checks the rest when the middleware is created.
 */
const clientOptionFields: OptionsSchema = {
  auth: {
    type: 'custom',
    expected: 'an object { username, password } of strings',
    check: (value) => isCredentials(value) && typeof value === 'object',
  },
  appName: { type: 'string' },
  maxPoolSize: { ...count, fix: 'give a whole number of connections (0: no limit)' },
  minPoolSize: count,
  maxConnecting: { type: 'number', integer: true, min: 1 },
  connectTimeoutMS: count,
  serverSelectionTimeoutMS: count,
  socketTimeoutMS: count,
  heartbeatFrequencyMS: count,
  maxIdleTimeMS: count,
  waitQueueTimeoutMS: count,
  tlsCAFile: path,
  tlsCertificateKeyFile: path,
  tlsCRLFile: path,
  tlsCertificateKeyFilePassword: { type: 'string' },
}

export const urlPattern = /^mongodb(\+srv)?:\/\//i

export const schema: OptionsSchema = {
  url: {
    type: 'custom',
    expected: 'a mongodb:// or mongodb+srv:// connection string',
    check: (value) => typeof value === 'string' && urlPattern.test(value),
  },
  dbName: { type: 'string', nonEmpty: true },
  auth: {
    type: 'custom',
    expected: 'an object { username, password } of strings, or a function returning one',
    check: isCredentials,
  },
  clientOptions: {
    type: 'shape',
    description: 'an object of MongoClient options',
    fields: clientOptionFields,
    fix: 'pass the MongoClient options as an object',
  },
  MongoClient: { type: 'function', fix: "pass the driver's MongoClient class" },
  contextKey: contextKeyRule,
  eager: { type: 'boolean' },
  release: { type: 'oneOf', values: ['keep', 'close'] },
  validateAfterIdleMs: { type: 'number', min: 0 },
  validateTimeoutMs: { type: 'number', min: 1 },
  closeTimeoutMs: { type: 'number', min: 1 },
  marginMs: { type: 'number', min: 0 },
  closeAtDeadline: { type: 'boolean' },
  wrapErrors: { type: 'boolean' },
  onEvent: { type: 'function' },
}

/** The option names set in a connection string's query, lowercased (`?maxPoolSize=5` → `maxpoolsize`). */
export const urlOptionNames = (url: string): Set<string> => {
  const query = url.split('?')[1] ?? ''
  const names = new Set<string>()
  for (const pair of query.split('&')) {
    const name = pair.split('=')[0]
    if (name) names.add(name.toLowerCase())
  }
  return names
}

/** The user and password of `scheme://user:password@host`, decoded; `undefined` when absent. */
export const urlCredentials = (url: string): { username: string; password?: string } | undefined => {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^@/]*)@/i.exec(url)
  if (!match?.[1]) return undefined
  const [user = '', ...rest] = match[1].split(':')
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text)
    } catch {
      return text
    }
  }
  return { username: decode(user), ...(rest.length === 0 ? {} : { password: decode(rest.join(':')) }) }
}

/**
 * The one relation between driver options the driver accepts and fails on only when the pool
 * fills: `minPoolSize` above `maxPoolSize` (0 means no limit).
 */
export const checkPoolSizes = (clientOptions: MongoClientOptions): void => {
  const { minPoolSize, maxPoolSize } = clientOptions
  if (minPoolSize === undefined || !maxPoolSize || minPoolSize <= maxPoolSize) return
  throw new TypeError(
    `${packageName}: option "clientOptions.minPoolSize" (${minPoolSize}) must not exceed "clientOptions.maxPoolSize" (${maxPoolSize}); lower minPoolSize (0 suits Lambda)`,
  )
}
