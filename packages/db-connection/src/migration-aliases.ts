import type { OptionAliases } from '@middy-downstream/core'

const sm = 'serverless-mysql'
const sp = 'serverless-postgres'
const both = 'serverless-mysql and serverless-postgres'
const rds = '@middy/rds'
const events = (type: string) => `one listener for all events; this one is type "${type}"`

/** serverless-postgres takes pg's connection fields beside its own options; here they go in `config`. */
const pgField = { from: sp, use: 'config', note: "connection fields go in config, the driver's own config" }

/**
 * Options of serverless-mysql, serverless-postgres and `@middy/rds`, and what to use here instead:
 * an unknown option with one of these names gets that as its "did you mean". The README's
 * migration tables say the same.
 */
export const migrationAliases: OptionAliases = {
  // serverless-mysql
  connUtilization: {
    from: both,
    use: 'utilizationThreshold',
    note: 'the same 0-1 share, used by release "auto"',
  },
  maxConnsFreq: {
    from: sm,
    use: 'capacityCheckIntervalMs',
    note: 'one read gives both the limit and the usage',
  },
  usedConnsFreq: {
    from: sm,
    use: 'capacityCheckIntervalMs',
    note: 'one read gives both the limit and the usage',
  },
  backoff: { from: sm, use: 'retry.strategy', note: '"full" or "decorrelated" (a function is not accepted)' },
  base: { from: sm, use: 'retry.baseMs' },
  cap: { from: sm, use: 'retry.capMs' },
  maxRetries: {
    from: both,
    use: 'retry.maxAttempts',
    note: 'attempts in all, the first included (maxRetries + 1)',
  },
  zombieMinTimeout: {
    from: sm,
    use: 'reapMinIdleSeconds',
    note: 'it never goes below the function timeout + 2 s, so no live invocation is killed',
  },
  zombieMaxTimeout: {
    from: sm,
    note: "zombies are reaped only when the server is above utilizationThreshold; cap idle connections with the server's wait_timeout",
  },
  manageConns: {
    from: sm,
    use: 'release',
    note: 'manageConns: false is release: "keep" with reapZombies: false',
  },
  library: {
    from: both,
    use: 'createConnection',
    note: "pass the driver's constructor: mysql2's createConnection, or (config) => new pg.Client(config) for /postgres",
  },
  promise: { from: sm, note: 'native promises are used' },
  onConnect: { from: sm, use: 'onEvent', note: events('open') },
  onConnectError: { from: sm, use: 'onEvent', note: events('retry (or error, when it gives up)') },
  onRetry: { from: sm, use: 'onEvent', note: events('retry') },
  onClose: { from: sm, use: 'onEvent', note: events('close') },
  onError: { from: sm, use: 'onEvent', note: events('error') },
  onKill: { from: sm, use: 'onEvent', note: events('reap') },
  onKillError: { from: sm, use: 'onEvent', note: events('error') },
  maxQueryRetries: {
    from: sm,
    note: 'a statement is re-run only when it was never sent, or when marked { idempotent: true } (never in a transaction)',
  },
  queryRetryBackoff: {
    from: sm,
    note: 'statements are not retried with a backoff; see { idempotent: true }',
  },
  onQueryRetry: { from: sm, use: 'onEvent' },
  returnFinalSqlQuery: { from: sm, note: "use mysql2's format() to see a statement with its values" },
  // serverless-postgres (connUtilization, maxRetries and library are above)
  maxConnsFreqMs: {
    from: sp,
    use: 'capacityCheckIntervalMs',
    note: 'one read gives both the limit and the usage',
  },
  processCountFreqMs: {
    from: sp,
    use: 'capacityCheckIntervalMs',
    note: 'one read gives both the limit and the usage',
  },
  processCountCacheEnabled: {
    from: sp,
    use: 'capacityCheckIntervalMs',
    note: 'the usage is always read at most once per interval; 0 reads it at every release',
  },
  maxConnections: {
    from: sp,
    note: "the server's limit is read from it: max_connections minus the superuser slots, and the role's and database's limits where set",
  },
  manualMaxConnections: {
    from: sp,
    note: "the server's limit is read with the usage, in the same statement",
  },
  strategy: {
    from: sp,
    note: "one strategy: this fleet's idle connections, oldest first, each idle past its owner's timeout + 2 s (see reapMinIdleSeconds, reapMaxPerInvocation)",
  },
  minConnectionIdleTimeSec: {
    from: sp,
    use: 'reapMinIdleSeconds',
    note: 'it never goes below the function timeout + 2 s, so no live invocation is killed',
  },
  maxIdleConnectionsToKill: { from: sp, use: 'reapMaxPerInvocation', note: 'default 3, not all' },
  capMs: { from: sp, use: 'retry.capMs' },
  baseMs: { from: sp, use: 'retry.baseMs' },
  delayMs: {
    from: sp,
    use: 'retry.baseMs',
    note: 'there is no fixed extra delay; backoff grows from retry.baseMs, within the remaining time',
  },
  debug: { from: sp, use: 'onEvent', note: 'one listener for all events: log them there' },
  allowCredentialsDiffing: {
    from: sp,
    use: 'password',
    note: 'pass a function (an IAM token signer): it is called for each new connection',
  },
  application_name: {
    from: sp,
    use: 'fleet',
    note: 'application_name is set to mdd:<timeout>:<fleet>, the marker reaping goes by; name your fleet with fleet',
  },
  plugin: {
    from: sp,
    note: 'the engine is chosen by the import path (/postgres); wrap the client with createConnection',
  },
  host: pgField,
  port: pgField,
  user: pgField,
  database: pgField,
  // @middy/rds
  internalKey: {
    from: rds,
    use: 'passwordFromInternal',
    note: 'the request.internal key @middy/rds-signer wrote',
  },
  cacheKey: { from: rds, note: 'clients are shared by a fingerprint of their config, without secrets' },
  cacheKeyExpiry: { from: rds, note: 'clients are shared by a fingerprint of their config, without secrets' },
  cacheExpiry: {
    from: rds,
    use: 'release',
    note: 'cacheExpiry: 0 is release: "close"; a kept connection is checked after validateAfterIdleMs',
  },
  disablePrefetch: {
    from: rds,
    use: 'eager',
    note: 'nothing connects at module load; the default (eager: false) connects on the first statement',
  },
  client: { from: rds, use: 'createConnection', note: 'the engine is chosen by the import path' },
}
