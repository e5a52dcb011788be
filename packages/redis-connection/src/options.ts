import {
  contextKeyRule,
  type EventListener,
  fingerprint,
  type OptionsSchema,
  portRule,
  rememberSecret,
  validateOptions,
} from '@middy-downstream/core'
import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis'

/**
 * The package name, as errors (`error.package`) and events (`event.package`) carry it.
 *
 * @example
 * if (error instanceof DownstreamError && error.package === packageName) metrics.count('redis-failure')
 */
export const packageName = '@middy-downstream/redis-connection'

/**
 * A password or token as a value, or a function that returns a fresh one (e.g. an ElastiCache IAM
 * token); a function is called right before each connection is opened.
 *
 * @example
 * const password: PasswordSource = async () => (await secrets.getSecretValue({ SecretId })).SecretString!
 */
export type PasswordSource = string | (() => string | Promise<string>)

/**
 * What happens to the client after each invocation: `keep` it for the next one (default), `close`
 * it gracefully (QUIT, bounded by `closeTimeoutMs`, then a hard close; `quit` is the ioredis name
 * for the same), or `disconnect` (drop the socket now).
 *
 * @example
 * redisConnection({ url, release: 'close' satisfies ReleasePolicy })
 */
export type ReleasePolicy = 'keep' | 'close' | 'quit' | 'disconnect'

/**
 * The ioredis client on the context: a `Redis` for one server, a `Cluster` in cluster mode.
 *
 * @example
 * const keys = async (client: RedisClient) => client.dbsize()
 */
export type RedisClient = Redis | Cluster

/**
 * The `Redis` class of an ioredis module (5 or 6), with its `Cluster` class as a static.
 *
 * @example
 * import { Redis } from 'ioredis'
 * redisConnection({ url, Redis })
 */
export interface RedisConstructor {
  new (options: RedisOptions): Redis
  new (url: string, options: RedisOptions): Redis
  Cluster: new (nodes: ClusterNode[], options?: ClusterOptions) => Cluster
}

/**
 * Cluster mode: the startup nodes and ioredis `ClusterOptions`. Node connections take `config`
 * (and `options.redisOptions`) as their ioredis options.
 *
 * @example
 * redisConnection({ cluster: { nodes: [{ host: 'clustercfg.orders.cache.amazonaws.com', port: 6379 }] }, config: { tls: {} } })
 */
export interface ClusterConfig {
  nodes: ClusterNode[]
  options?: ClusterOptions
}

/**
 * The options shared by the middleware and `createRedisClient`.
 *
 * @example
 * const options: RedisClientOptions = { url: 'rediss://cache.example.com:6379', password: tokenProvider, release: 'keep' }
 */
export interface RedisClientOptions {
  /**
   * `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS.
   * @default none
   */
  url?: string
  /**
   * ioredis options (host, port, username, db, tls, keyPrefix…); in cluster mode, each node's
   * options.
   * @default `{}`
   */
  config?: RedisOptions
  /**
   * Cluster mode instead of one server.
   * @default none (one server)
   */
  cluster?: ClusterConfig
  /**
   * A password, or a provider called before each connection is opened (so before every reconnect).
   * @default none (the password in `url` or `config`, if any)
   */
  password?: PasswordSource
  /**
   * The ioredis `Redis` class to use (5 or 6).
   * @default the `ioredis` peer dependency's `Redis`
   */
  Redis?: RedisConstructor
  /**
   * Release after each invocation: `keep`, `close` (alias `quit`) or `disconnect`.
   * @default `'keep'`
   */
  release?: ReleasePolicy
  /**
   * Milliseconds kept back from the invocation's remaining time, to answer before Lambda's timeout.
   * @default `200`
   */
  marginMs?: number
  /**
   * One connection attempt, TCP, TLS and handshake (AUTH, ready check) included; bounded by the
   * deadline.
   * @default `1000`
   */
  connectTimeoutMs?: number
  /**
   * Connection attempts per invocation before queued commands fail, the first included.
   * @default `3`
   */
  connectAttempts?: number
  /**
   * A cap on each command's time, below the deadline.
   * @default none (the deadline bounds every command)
   */
  commandTimeoutMs?: number
  /**
   * A client idle for longer than this is pinged before the invocation gets it.
   * @default `5000`
   */
  validateAfterIdleMs?: number
  /**
   * The longest the validation PING may take (bounded by the deadline too).
   * @default `250`
   */
  validateTimeoutMs?: number
  /**
   * The longest a QUIT may take before the socket is dropped.
   * @default `250`
   */
  closeTimeoutMs?: number
  /**
   * Re-send commands that were written but unanswered when a connection dropped (ioredis'
   * `autoResendUnfulfilledCommands`). They may already have run, so only for idempotent workloads.
   * @default `false` (they fail at once with `ConnectionLostError`)
   */
  resendUnfulfilledCommands?: boolean
  /**
   * Lifecycle events: open, reuse, validate, retry, release, close, error. Never contains a secret.
   * @default none
   */
  onEvent?: EventListener
}

/**
 * The middleware's options: the client's, plus where it goes and whether it connects in `before`.
 *
 * @example
 * redisConnection({ url: process.env.REDIS_URL, contextKey: 'cache', eager: true })
 */
export interface RedisConnectionOptions<K extends string = 'redis'> extends RedisClientOptions {
  /**
   * The context property the client is put on.
   * @default `'redis'`
   */
  contextKey?: K
  /**
   * Connect in `before` instead of on the first command.
   * @default `false`
   */
  eager?: boolean
}

/**
 * The defaults of every option that has one.
 *
 * @example
 * redisConnection({ url, marginMs: defaults.marginMs * 2 })
 */
export const defaults = {
  contextKey: 'redis',
  eager: false,
  release: 'keep' as ReleasePolicy,
  marginMs: 200,
  connectTimeoutMs: 1000,
  connectAttempts: 3,
  validateAfterIdleMs: 5000,
  validateTimeoutMs: 250,
  closeTimeoutMs: 250,
  resendUnfulfilledCommands: false,
} as const

/** ioredis options this package sets itself, and what to use instead. */
const managedKeys: Record<string, string> = {
  lazyConnect: 'the client always connects on its first command; use eager: true to connect in before',
  retryStrategy: 'reconnects are bounded by connectAttempts and the invocation deadline',
  clusterRetryStrategy: 'reconnects are bounded by connectAttempts and the invocation deadline',
  maxRetriesPerRequest:
    'queued commands fail when connectAttempts or the deadline run out; use connectAttempts',
  enableOfflineQueue:
    'commands wait for a connection only until the deadline; the queue is needed for lazy connects',
  autoResendUnfulfilledCommands: 'use resendUnfulfilledCommands',
  connectTimeout: 'use connectTimeoutMs',
  commandTimeout: 'use commandTimeoutMs',
}

const isRedisConstructor = (value: unknown): boolean =>
  typeof value === 'function' && typeof (value as { Cluster?: unknown }).Cluster === 'function'

const isClusterConfig = (value: unknown): boolean => {
  if (typeof value !== 'object' || value === null) return false
  const { nodes, options } = value as { nodes?: unknown; options?: unknown }
  return (
    Array.isArray(nodes) &&
    nodes.length > 0 &&
    (options === undefined || (typeof options === 'object' && options !== null))
  )
}

const positive = (max?: number) =>
  ({ type: 'number', min: 1, integer: true, ...(max ? { max } : {}) }) as const

const schema: OptionsSchema = {
  url: {
    type: 'custom',
    expected: 'a redis:// or rediss:// URL',
    check: (v) => typeof v === 'string' && /^rediss?:\/\//i.test(v),
  },
  config: {
    type: 'shape',
    description: 'an object of ioredis options',
    fields: {
      port: portRule,
      host: { type: 'string', nonEmpty: true, fix: 'pass the server host name, e.g. "cache.example.com"' },
      db: { type: 'number', min: 0, integer: true, fix: 'pass the database number, e.g. 0' },
    },
    fix: 'pass ioredis options, e.g. { host, port, tls }',
  },
  cluster: {
    type: 'custom',
    expected: 'an object { nodes: [...startup nodes], options? }',
    check: isClusterConfig,
  },
  password: { type: 'stringOrFunction', fix: 'pass the password, or a function that returns it' },
  Redis: {
    type: 'custom',
    expected: "the Redis class of ioredis (import { Redis } from 'ioredis')",
    check: isRedisConstructor,
  },
  contextKey: contextKeyRule,
  eager: { type: 'boolean' },
  release: { type: 'oneOf', values: ['keep', 'close', 'quit', 'disconnect'] },
  marginMs: { type: 'number', min: 0, integer: true },
  connectTimeoutMs: positive(),
  connectAttempts: positive(100),
  commandTimeoutMs: positive(),
  validateAfterIdleMs: { type: 'number', min: 0 },
  validateTimeoutMs: positive(),
  closeTimeoutMs: positive(),
  resendUnfulfilledCommands: { type: 'boolean' },
  onEvent: { type: 'function' },
}

const rejectManagedKeys = (where: string, options: object | undefined) => {
  if (!options) return
  for (const key of Object.keys(options)) {
    const fix = managedKeys[key]
    if (fix && (options as Record<string, unknown>)[key] !== undefined) {
      throw new TypeError(`${packageName}: option "${where}.${key}" is set by ${packageName}; ${fix}`)
    }
  }
}

/**
 * Checks the options at construction time: a `TypeError` naming the bad option, what it must be
 * and the fix. Values are never printed (one may be a password).
 *
 * @example
 * checkOptions({ url: 'http://cache' }) // TypeError: …option "url" must be a redis:// or rediss:// URL…
 */
export const checkOptions = (options: RedisConnectionOptions<string> | undefined): void => {
  validateOptions(packageName, schema, options)
  if (!options) return
  if (options.url !== undefined && options.cluster !== undefined) {
    throw new TypeError(
      `${packageName}: options "url" and "cluster" exclude each other; list the cluster's nodes in cluster.nodes`,
    )
  }
  rejectManagedKeys('config', options.config)
  rejectManagedKeys('cluster.options', options.cluster?.options)
  rejectManagedKeys('cluster.options.redisOptions', options.cluster?.options?.redisOptions)
  const configPassword = options.config?.password
  if (configPassword !== undefined && configPassword !== null && typeof configPassword !== 'string') {
    throw new TypeError(
      `${packageName}: option "config.password" must be a string; pass a provider function as the top-level "password" option`,
    )
  }
}

/**
 * The settings of one managed client, resolved from the options and the defaults.
 *
 * @example
 * const settings: ClientSettings = resolveSettings({ url }, Redis)
 */
export interface ClientSettings {
  url?: string
  config: RedisOptions
  cluster?: ClusterConfig
  password?: PasswordSource
  Redis: RedisConstructor
  release: ReleasePolicy
  marginMs: number
  connectTimeoutMs: number
  connectAttempts: number
  commandTimeoutMs?: number
  validateAfterIdleMs: number
  validateTimeoutMs: number
  closeTimeoutMs: number
  resendUnfulfilledCommands: boolean
}

/**
 * The password in a redis URL, decoded, or `undefined`.
 *
 * @example
 * urlPassword('redis://:s%40cret@cache:6379') // 's@cret'
 */
export const urlPassword = (url: string | undefined): string | undefined => {
  if (!url) return undefined
  try {
    const { password } = new URL(url)
    return password ? decodeURIComponent(password) : undefined
  } catch {
    return undefined
  }
}

/**
 * The URL with its password replaced, for messages and fingerprints.
 *
 * @example
 * urlWithoutPassword('redis://app:s3cret@cache:6379') // 'redis://app:***@cache:6379'
 */
export const urlWithoutPassword = (url: string): string => {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'an unparsable URL'
  }
}

/**
 * The options with every default applied; remembers every password it sees for redaction.
 *
 * @example
 * const settings = resolveSettings({ url: process.env.REDIS_URL }, Redis)
 */
export const resolveSettings = (
  options: RedisClientOptions,
  DefaultRedis: RedisConstructor,
): ClientSettings => {
  const settings: ClientSettings = {
    ...(options.url === undefined ? {} : { url: options.url }),
    config: options.config ?? {},
    ...(options.cluster === undefined ? {} : { cluster: options.cluster }),
    ...(options.password === undefined ? {} : { password: options.password }),
    Redis: options.Redis ?? DefaultRedis,
    release: options.release ?? defaults.release,
    marginMs: options.marginMs ?? defaults.marginMs,
    connectTimeoutMs: options.connectTimeoutMs ?? defaults.connectTimeoutMs,
    connectAttempts: options.connectAttempts ?? defaults.connectAttempts,
    ...(options.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: options.commandTimeoutMs }),
    validateAfterIdleMs: options.validateAfterIdleMs ?? defaults.validateAfterIdleMs,
    validateTimeoutMs: options.validateTimeoutMs ?? defaults.validateTimeoutMs,
    closeTimeoutMs: options.closeTimeoutMs ?? defaults.closeTimeoutMs,
    resendUnfulfilledCommands: options.resendUnfulfilledCommands ?? defaults.resendUnfulfilledCommands,
  }
  // Every password this package knows of is cut out of errors and events from now on.
  rememberSecret(urlPassword(settings.url))
  rememberSecret(settings.config.password ?? undefined)
  rememberSecret(settings.cluster?.options?.redisOptions?.password ?? undefined)
  if (typeof settings.password === 'string') rememberSecret(settings.password)
  return settings
}

// Passwords enter the fingerprint only as a keyed hash with a per-process key: two configs that
// differ by password never share a client, and the key reveals nothing about the password.
// node:crypto as its CommonJS object: its ESM namespace reads every export, webcrypto included.
const { createHmac, randomBytes } = process.getBuiltinModule('node:crypto')
const hashKey = randomBytes(32)
const secretTag = (secret: string | undefined | null): string | undefined =>
  secret ? createHmac('sha256', hashKey).update(secret).digest('hex').slice(0, 16) : undefined

const withoutPassword = (options: RedisOptions | undefined) => {
  if (!options) return undefined
  const { password, ...rest } = options
  return { ...rest, password: secretTag(password) }
}

/**
 * The registry key of a client: its connection settings with every secret replaced by a keyed
 * hash, functions by their identity. Per-invocation options (contextKey, eager, release,
 * marginMs, onEvent) are not part of it: middlewares that differ only in those share the client.
 *
 * @example
 * registryGet(settingsKey(settings), () => new RedisManager(settings, key, events))
 */
export const settingsKey = (settings: ClientSettings): string => {
  const { password, Redis, cluster, config, url, release: _r, marginMs: _m, ...connection } = settings
  return fingerprint('redis', {
    url: url === undefined ? undefined : urlWithoutPassword(url),
    urlPassword: secretTag(urlPassword(url)),
    config: withoutPassword(config),
    cluster: cluster && {
      nodes: cluster.nodes,
      options: cluster.options && {
        ...cluster.options,
        redisOptions: withoutPassword(cluster.options.redisOptions),
      },
    },
    // Functions (a password provider, the Redis class) count by identity in core's fingerprint.
    password: typeof password === 'function' ? password : secretTag(password),
    Redis,
    ...connection,
  })
}
