import {
  announceBudget,
  type BackoffStrategy,
  connectionBudget,
  contextKeyRule,
  type LifecycleEvent,
  type OptionsSchema,
  portRule,
  type SecretSource,
  withAliases,
} from '@middy-downstream/core'
import type { AnySqlEngine } from './engine.js'
import { migrationAliases } from './migration-aliases.js'

/** Lambda's longest function timeout, in seconds. */
export const maxFunctionTimeoutSeconds = 900

/** Seconds added to an owner's timeout before its idle connection counts as a zombie: whole-second rounding, clocks. */
export const reapSlackSeconds = 2

export type ReleasePolicy = 'auto' | 'keep' | 'close'

/**
 * The options every SQL engine shares. `TConfig` is the driver's config (mysql2's
 * `ConnectionOptions`, pg's `ClientConfig`), `TCreate` its connection factory.
 */
export interface SqlConnectionOptions<TConfig, TCreate, TKey extends string = 'db'> {
  /** The driver's connection options: host, port, user, database, ssl, … The password may be left out here. */
  config: TConfig
  /**
   * The password as a value or a provider called for each new connection (RDS IAM tokens).
   * Overrides `config.password`.
   * @default `config.password`
   */
  password?: SecretSource
  /**
   * Read the password from `request.internal[key]` (e.g. a token that `@middy/rds-signer` fetched).
   * @default none
   */
  passwordFromInternal?: string
  /**
   * Where the handle goes on the context.
   * @default `'db'`
   */
  contextKey?: TKey
  /**
   * What to do with the connection after each invocation.
   * @default `'auto'`
   */
  release?: ReleasePolicy
  /**
   * Open the connection in `before` instead of on first query.
   * @default `false`
   */
  eager?: boolean
  /**
   * A connection idle longer than this is pinged before use.
   * @default `10_000`
   */
  validateAfterIdleMs?: number
  /**
   * Longest the ping after idle may take (also bounded by the invocation's remaining time).
   * @default `1_000`
   */
  validateTimeoutMs?: number
  /**
   * Longest one connect attempt may take (also bounded by the invocation's remaining time).
   * @default `5_000`
   */
  connectTimeoutMs?: number
  /**
   * Longest a graceful close may take before the socket is destroyed.
   * @default `1_000`
   */
  closeTimeoutMs?: number
  /**
   * Kept back from the invocation's remaining time, so an error is returned before Lambda's
   * timeout.
   * @default `300`
   */
  marginMs?: number
  /**
   * Longest one statement may take; always also bounded by the invocation's remaining time.
   * @default none (`Infinity`: only the remaining time bounds a statement)
   */
  queryTimeoutMs?: number
  /**
   * Connect retries on capacity and network errors: `full` jitter `random(0, min(cap, base·2ⁿ))` or
   * `decorrelated` `min(cap, random(base, previous·3))`, never past the deadline. Fields left out
   * keep their default.
   * @default `{ strategy: 'decorrelated', baseMs: 50, capMs: 1_000, maxAttempts: 20 }`
   */
  retry?: { strategy?: BackoffStrategy; baseMs?: number; capMs?: number; maxAttempts?: number }
  /**
   * `auto`: close the connection when the server is at least this full (0-1).
   * @default `0.8`
   */
  utilizationThreshold?: number
  /**
   * `auto`: how often one environment reads the server's capacity and usage.
   * @default `15_000`
   */
  capacityCheckIntervalMs?: number
  /**
   * `auto`: kill this fleet's idle connections when the server is above the threshold.
   * @default `true`
   */
  reapZombies?: boolean
  /**
   * Most zombies one invocation kills.
   * @default `3`
   */
  reapMaxPerInvocation?: number
  /**
   * Only connections asleep at least this long are reaped; never below their owner's
   * `functionTimeout` + 2 s.
   * @default `0`
   */
  reapMinIdleSeconds?: number
  /**
   * This function's configured timeout in seconds (1-900), declared on each connection (MySQL
   * connect attribute `mdd_timeout_s`, PostgreSQL `application_name`): other environments reap a
   * connection only after it has been idle longer than this + 2 s. Lambda does not tell a function
   * its timeout, so set it to reap sooner.
   * @default `900` (Lambda's maximum: always safe, but zombies then wait 15 minutes)
   */
  functionTimeout?: number
  /**
   * Names this fleet's connections (the engine's fleet marker).
   * @default the function name (`AWS_LAMBDA_FUNCTION_NAME`)
   */
  fleet?: string
  /**
   * Behind RDS Proxy: no capacity reads, no reaping; the proxy multiplexes.
   * @default `false`
   */
  proxy?: boolean
  /**
   * Connections one execution environment may hold at once, all its runtime workers together
   * (Lambda Managed Instances run invocations concurrently, on several workers): split across the
   * workers.
   * @default `4` in a classic environment (which uses one); under Managed Instances
   * `min(AWS_LAMBDA_MAX_CONCURRENCY, max(4, workers))`
   */
  maxConnectionsPerEnvironment?: number
  /**
   * Called for open, reuse, validate, retry, release, close, reap and error events.
   * @default none
   */
  onEvent?: (event: LifecycleEvent) => void
  /**
   * The driver's connection factory to use (a tracing wrapper, a test double).
   * @default the driver's own
   */
  createConnection?: TCreate
}

export const defaults = {
  contextKey: 'db',
  release: 'auto' as ReleasePolicy,
  eager: false,
  validateAfterIdleMs: 10_000,
  validateTimeoutMs: 1_000,
  connectTimeoutMs: 5_000,
  closeTimeoutMs: 1_000,
  marginMs: 300,
  queryTimeoutMs: Number.POSITIVE_INFINITY,
  retry: { strategy: 'decorrelated' as BackoffStrategy, baseMs: 50, capMs: 1_000, maxAttempts: 20 },
  utilizationThreshold: 0.8,
  capacityCheckIntervalMs: 15_000,
  reapZombies: true,
  reapMaxPerInvocation: 3,
  reapMinIdleSeconds: 0,
  proxy: false,
}

const ms = { type: 'number', min: 0 } as const

/** The option schema of an engine: the shared options, and the engine's own `config` rule. */
export const schemaFor = (engine: AnySqlEngine): OptionsSchema =>
  // serverless-mysql's and @middy/rds's option names get a "did you mean" naming ours.
  withAliases({ ...schema, config: engine.configRule }, migrationAliases)

export const schema: OptionsSchema = {
  config: { type: 'object' },
  password: { type: 'stringOrFunction', fix: 'pass the password, or a function returning a fresh one' },
  passwordFromInternal: { type: 'string', nonEmpty: true },
  contextKey: contextKeyRule,
  release: { type: 'oneOf', values: ['auto', 'keep', 'close'] },
  eager: { type: 'boolean' },
  validateAfterIdleMs: ms,
  validateTimeoutMs: { type: 'number', min: 1 },
  connectTimeoutMs: { type: 'number', min: 1 },
  closeTimeoutMs: { type: 'number', min: 1 },
  marginMs: ms,
  queryTimeoutMs: { type: 'number', min: 1 },
  retry: {
    type: 'custom',
    expected:
      '{ strategy?: "full" | "decorrelated", baseMs?: number >= 1, capMs?: number >= baseMs, maxAttempts?: integer >= 1 }',
    check: (value) => {
      if (typeof value !== 'object' || value === null) return false
      const r = value as Record<string, unknown>
      const known = ['strategy', 'baseMs', 'capMs', 'maxAttempts']
      if (Object.keys(r).some((k) => !known.includes(k))) return false
      if (r.strategy !== undefined && r.strategy !== 'full' && r.strategy !== 'decorrelated') return false
      const positive = (v: unknown) =>
        v === undefined || (typeof v === 'number' && Number.isFinite(v) && v >= 1)
      if (!positive(r.baseMs) || !positive(r.capMs)) return false
      if (r.maxAttempts !== undefined && !(Number.isInteger(r.maxAttempts) && (r.maxAttempts as number) >= 1))
        return false
      return true
    },
  },
  utilizationThreshold: { type: 'number', min: 0, max: 1 },
  capacityCheckIntervalMs: ms,
  reapZombies: { type: 'boolean' },
  reapMaxPerInvocation: { type: 'number', min: 0, integer: true },
  reapMinIdleSeconds: { type: 'number', min: 0, integer: true },
  functionTimeout: { type: 'number', min: 1, max: 900, integer: true },
  fleet: { type: 'string', nonEmpty: true },
  proxy: { type: 'boolean' },
  maxConnectionsPerEnvironment: { type: 'number', min: 1, integer: true },
  onEvent: { type: 'function' },
  createConnection: { type: 'function' },
}

/**
 * The config fields every server-based engine checks at construction, named the same in errors;
 * `hostFix` names the engine's usual environment variable. Here rather than in a file of their own:
 * every entry loads this module, so the bundle keeps one shared chunk (one file fewer to load).
 */
export const serverConfigFields = (hostFix: string): OptionsSchema => ({
  host: { type: 'string', nonEmpty: true, fix: hostFix },
  port: portRule,
  user: { type: 'string', nonEmpty: true },
  password: {
    type: 'string',
    fix: 'pass the password as a string, or use the "password" option for a provider',
  },
  database: { type: 'string', nonEmpty: true },
})

/** The user named in a connection URL (`mysql://app:…@host/db`), if any. */
export const userFromUrl = (url: string | undefined): string | undefined => {
  if (!url) return undefined
  try {
    return decodeURIComponent(new URL(url).username) || undefined
  } catch {
    return undefined
  }
}

/** The owner's function timeout this environment declares: the option, else Lambda's maximum. */
export const ownerTimeoutSeconds = (options: { functionTimeout?: number }): number =>
  options.functionTimeout ?? maxFunctionTimeoutSeconds

/**
 * A connection idle this long may have been reaped by another environment (whose floor for it is
 * the declared timeout + 2 s), so it is always validated before reuse: the configured
 * `validateAfterIdleMs`, lowered to the declared timeout when that is shorter.
 */
export const effectiveValidateAfterIdleMs = (options: {
  validateAfterIdleMs: number
  functionTimeout?: number
}): number => Math.min(options.validateAfterIdleMs, ownerTimeoutSeconds(options) * 1000)

/**
 * This module instance's pool size: the per-environment budget split across the runtime's
 * workers (Lambda Managed Instances load one copy of the handler per worker), announced once.
 */
export const connectionsPerWorker = (
  packageName: string,
  maxConnectionsPerEnvironment: number | undefined,
): number => {
  const budget = connectionBudget(maxConnectionsPerEnvironment, 4)
  announceBudget(packageName, 'maxConnectionsPerEnvironment', budget)
  return budget.perWorker
}
