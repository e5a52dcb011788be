import { type EventListener, type OptionsSchema, validateOptions } from '@middy-downstream/core'
import {
  createRedisClient,
  ManagedRedis,
  type RedisClient,
  type RedisClientOptions,
} from '@middy-downstream/redis-connection'

/** The package name, as errors (`error.package`) carry it. */
export const packageName = '@middy-downstream/downstream-guard'

/**
 * What to do with a queue or stream batch that got no permit: `report` answers with
 * `batchItemFailures` (the event source mapping must have `ReportBatchItemFailures` on), `throw`
 * throws a `ThrottledError` so the whole batch is retried (for mappings without it).
 */
export type BatchThrottle = 'report' | 'throw'

/**
 * Options of `downstreamGuard`.
 *
 * @example
 * const options: GuardOptions = { name: 'orders-api', redis: { url }, concurrency: 10, rate: 50, burst: 10 }
 */
export interface GuardOptions {
  /** The downstream's name: every function guarding the same name shares its limits. */
  name: string
  /** redis-connection options (the same settings share one managed client), or a `createRedisClient` result. */
  redis: RedisClientOptions | ManagedRedis<RedisClient>
  /**
   * At most this many permits held at once across the fleet.
   * @default none (no concurrency limit; set it, `rate`, or both)
   */
  concurrency?: number
  /**
   * At most this many permits granted per second, on average (GCRA).
   * @default none (no rate limit)
   */
  rate?: number
  /**
   * With `rate`: how many permits may be granted at once after a quiet period.
   * @default 1
   */
  burst?: number
  /**
   * Wait at most this long for a permit (0: do not wait).
   * @default Infinity (as long as the remaining time allows)
   */
  maxWaitMs?: number
  /**
   * Time kept back from the invocation's remaining time for the handler itself: waiting stops when
   * only this much is left.
   * @default 1000
   */
  marginMs?: number
  /**
   * A lease outlives its holder's remaining time by this much, then expires by itself.
   * @default 1000
   */
  leaseMarginMs?: number
  /**
   * A lease's length outside Lambda (no context clock).
   * @default 60000
   */
  leaseWithoutClockMs?: number
  /**
   * Redis unreachable: `true` lets the invocation run unguarded, `false` refuses it.
   * @default false
   */
  failOpen?: boolean
  /**
   * Milliseconds one Redis round trip may take before Redis counts as unreachable.
   * @default 1000
   */
  redisTimeoutMs?: number
  /**
   * See `BatchThrottle`.
   * @default 'report'
   */
  batchThrottle?: BatchThrottle
  /**
   * Prefix of the guard's Redis keys.
   * @default 'middy-downstream:guard'
   */
  keyPrefix?: string
  /**
   * Take no permit before the handler: the handler takes one around each block it marks with
   * `context.guard.run(async () => …)`, held only while the block runs.
   * @default false
   */
  lazy?: boolean
  /**
   * Called with every permit event (`acquire`, `wait`, `throttle`, `return`, `expire`, `error`),
   * e.g. `powertoolsListener(...)`; the events are also published on `node:diagnostics_channel`.
   * @default none
   */
  onEvent?: EventListener
}

export const defaults = {
  burst: 1,
  maxWaitMs: Number.POSITIVE_INFINITY,
  marginMs: 1000,
  leaseMarginMs: 1000,
  leaseWithoutClockMs: 60_000,
  failOpen: false,
  redisTimeoutMs: 1000,
  batchThrottle: 'report' as BatchThrottle,
  keyPrefix: 'middy-downstream:guard',
  lazy: false,
}

export type GuardSettings = Omit<Required<GuardOptions>, 'concurrency' | 'rate' | 'redis' | 'onEvent'> & {
  onEvent?: EventListener
  concurrency?: number
  rate?: number
  redis: ManagedRedis<RedisClient>
}

const positive = { type: 'number', min: 0 } as const

const schema: OptionsSchema = {
  name: { type: 'string', nonEmpty: true, fix: 'name the downstream, e.g. "orders-db"' },
  redis: {
    type: 'object',
    fix: 'pass redis-connection options such as { url: process.env.REDIS_URL }, or createRedisClient(...)',
  },
  concurrency: { type: 'number', min: 1, integer: true, fix: 'permits held at once, e.g. 10' },
  rate: { type: 'number', min: 0.001, fix: 'permits per second, e.g. 50' },
  burst: { type: 'number', min: 1, integer: true, fix: 'permits granted at once after a quiet period' },
  maxWaitMs: { ...positive, fix: 'milliseconds, or leave it out to wait while time remains' },
  marginMs: { ...positive, fix: 'milliseconds kept for the handler, e.g. 1000' },
  leaseMarginMs: { ...positive, fix: 'milliseconds, e.g. 1000' },
  leaseWithoutClockMs: { type: 'number', min: 1, fix: 'milliseconds, e.g. 60000' },
  failOpen: { type: 'boolean' },
  redisTimeoutMs: { type: 'number', min: 1, fix: 'milliseconds, e.g. 1000' },
  batchThrottle: { type: 'oneOf', values: ['report', 'throw'] },
  keyPrefix: { type: 'string', nonEmpty: true },
  lazy: { type: 'boolean' },
  onEvent: { type: 'function' },
}

/**
 * Checks the options (a `TypeError` naming the option and the fix) and fills in the defaults.
 *
 * @example
 * const settings = resolveSettings({ name: 'orders-api', redis: { url }, concurrency: 10 })
 */
export const resolveSettings = (options: GuardOptions): GuardSettings => {
  if (options === undefined || options === null) {
    throw new TypeError(`${packageName}: options are required: { name, redis, concurrency and/or rate }`)
  }
  validateOptions(packageName, schema, options)
  if (options.name === undefined)
    throw new TypeError(`${packageName}: option "name" is required; ${schema.name!.fix}`)
  if (options.redis === undefined)
    throw new TypeError(`${packageName}: option "redis" is required; ${schema.redis!.fix}`)
  if (options.concurrency === undefined && options.rate === undefined) {
    throw new TypeError(
      `${packageName}: set "concurrency", "rate" or both; without a limit the guard does nothing`,
    )
  }
  if (options.burst !== undefined && options.rate === undefined) {
    throw new TypeError(`${packageName}: option "burst" needs "rate"; set rate (permits per second) too`)
  }
  const redis =
    options.redis instanceof ManagedRedis
      ? options.redis
      : (createRedisClient(options.redis) as ManagedRedis<RedisClient>)
  const settings: GuardSettings = { ...defaults, ...definedOnly(options), name: options.name, redis }
  return settings
}

const definedOnly = (options: GuardOptions): Partial<GuardOptions> =>
  Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined))
