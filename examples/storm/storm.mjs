// The connection storm, as a reusable module: a private throwaway database with a low
// max_connections (MariaDB, PostgreSQL, or the local Data API endpoint over MariaDB), a fleet of
// simulated Lambda environments (lambda-sim) running one of the handlers, bursts of traffic and a pause in which idle environments are reclaimed (abandoned:
// frozen for good, their connections left open on the server). Used by the demo (demo.mjs), its
// test (storm.test.ts) and the benchmarks (bench/run.mjs).
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Fleet, summarizeLatency } from '@middy-downstream/lambda-sim'
import { startBystanders } from './bystanders.mjs'
import { handlersByEngine, startStormDatabase } from './databases/index.mjs'

export { engineOf, engines, handlersByEngine } from './databases/index.mjs'
export { appUser, mariaDbMissing, readCounters, startDatabase } from './databases/mariadb.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))

/** Every handler, in the order they are shown: MySQL's, PostgreSQL's, the Data API's. */
export const handlerNames = Object.values(handlersByEngine).flat()

/** Absolute path of a handler module of this folder. */
export const handlerModule = (name) => {
  if (!handlerNames.includes(name)) throw new TypeError(`unknown handler ${name}; one of ${handlerNames}`)
  return path.join(here, `${name}.mjs`)
}

/**
 * The storm of the demo: a burst at concurrency 40, a pause in which half the idle environments
 * are reclaimed, and another burst, which starts new environments in their place.
 */
export const stormProfile = ({ concurrency = 40, invocations = 400, pauseMs = 6000, reap = 0.5 } = {}) => [
  { name: 'burst', concurrency, invocations },
  { name: `reclaim ${Math.round(reap * 100)}% of idle, pause ${pauseMs / 1000} s`, reap, pauseMs },
  { name: 'second burst', concurrency, invocations },
]

/**
 * Runs one storm of one handler against a fresh private database of its engine (`engineOf`) and
 * returns its figures.
 *
 * @param {object} options
 * @param {string} options.handler one of `handlerNames`
 * @param {number} [options.maxConnections] connections the application may open (20): MariaDB's
 *   max_connections; PostgreSQL's max_connections minus the 3 reserved for superusers
 * @param {object[]} [options.profile] lambda-sim phases (`stormProfile()`)
 * @param {number} [options.maxEnvironments] most live environments (50)
 * @param {number} [options.timeoutMs] the function timeout (3000, Lambda's default)
 * @param {number} [options.sampleEveryMs] how often server connections are sampled (100)
 * @param {Record<string, string>} [options.env] more environment variables for the handlers
 * @param {boolean} [options.performanceSchema] MariaDB attributes connections (false)
 * @param {boolean | { application?: number, functions?: number, pauseMs?: number }} [options.bystanders]
 *   run the bystanders alongside (true; never for the Data API, which holds no connection to
 *   reap): another application's pooled connections and another function's transactions on the
 *   same user and database (`startBystanders`' sizes)
 * @param {(database: object) => void} [options.onDatabase] the started database (`startStormDatabase`'s)
 * @param {(progress: object) => void} [options.onProgress] lambda-sim progress, plus `handler`
 * @param {(info: { handler: string, index: number, phase: object }) => void} [options.onPhase] before each phase
 */
export const runStorm = async ({
  handler,
  maxConnections = 20,
  profile = stormProfile(),
  maxEnvironments = 50,
  timeoutMs = 3000,
  sampleEveryMs = 100,
  env = {},
  performanceSchema = false,
  bystanders = true,
  onProgress,
  onPhase,
  onDatabase,
}) => {
  const module = handlerModule(handler)
  const database = await startStormDatabase(handler, { maxConnections, performanceSchema })
  const dbEnv = database.env
  try {
    onDatabase?.(database)
    const records = []
    let startedAt = 0
    const fleet = new Fleet({
      module,
      timeoutMs,
      maxEnvironments,
      functionName: 'storm',
      env: {
        ...dbEnv,
        AWS_LAMBDA_FUNCTION_NAME: 'storm',
        // The timeout as a deployment would configure it (Lambda does not tell the function).
        FUNCTION_TIMEOUT_S: String(Math.ceil(timeoutMs / 1000)),
        ...env,
      },
      output: 'ignore',
      sampleEveryMs,
      samplers: database.samplers,
      onProgress: onProgress && ((progress) => onProgress({ handler, ...progress })),
      beforePhase: onPhase && (({ phase, index }) => onPhase({ handler, index, phase })),
      onInvocation: (record) => {
        records.push({
          at: Math.round(performance.now() - startedAt),
          ok: record.ok,
          coldStart: record.coldStart,
          latencyMs: record.latencyMs,
          durationMs: record.durationMs,
        })
      },
    })
    const before = await database.totals()
    const sizes = typeof bystanders === 'object' ? bystanders : {}
    const withBystanders = Boolean(bystanders) && database.ledgerSql !== undefined
    const running = withBystanders ? await startBystanders({ database, env: dbEnv, ...sizes }) : undefined
    startedAt = performance.now()
    const results = await fleet.run(profile)
    const suffered = (await running?.stop()) ?? noBystanders
    const after = await database.totals()
    // The bystanders' own statements are theirs, not the handler's.
    after.statements -= suffered.statements
    const summary = summarize(handler, maxConnections, results, before, after, records)
    return {
      ...summary,
      engine: database.engine,
      performanceSchema: database.engine === 'mysql' ? performanceSchema : undefined,
      bystanders: running ? suffered : undefined,
    }
  } finally {
    await database.dispose()
  }
}

const noBystanders = { connectionsKilled: 0, transactionsBroken: 0, transactionsCommitted: 0, statements: 0 }

const peakOf = (values) => Math.max(0, ...values.filter((value) => typeof value === 'number'))

const summarize = (handler, maxConnections, results, before, after, records) => {
  const warm = summarizeLatency(records.filter((r) => !r.coldStart).map((r) => r.latencyMs))
  const connections = results.samples.map((sample) => sample.values.connections)
  const per = (count) => (results.invocations === 0 ? 0 : count / results.invocations)
  let t = 0
  const phases = results.phases.map((phase) => {
    const start = t
    t += phase.durationMs
    return { name: phase.name ?? phase.description, startMs: start, endMs: t, invocations: phase.invocations }
  })
  return {
    handler,
    maxConnections,
    invocations: results.invocations,
    successes: results.successes,
    failures: results.failures,
    failuresByCode: results.failuresByCode,
    p50: results.latencyMs.p50,
    p99: results.latencyMs.p99,
    maxLatency: results.latencyMs.max,
    warmP50: warm.p50,
    warmP99: warm.p99,
    peakConnections: peakOf(connections),
    // The Data API service's own connections (its pool), apart from the fleet's.
    peakServiceConnections: results.samples.some((sample) => 'service' in sample.values)
      ? peakOf(results.samples.map((sample) => sample.values.service))
      : undefined,
    queriesPerInvocation: per(after.statements - before.statements),
    connectsPerInvocation: per(after.connects - before.connects),
    coldStarts: results.coldStarts,
    environmentsStarted: results.environmentsStarted,
    environmentsAbandoned: results.environmentsAbandoned,
    durationMs: results.durationMs,
    samples: results.samples.map((sample) => ({ t: sample.t, connections: sample.values.connections })),
    failureTimes: records.filter((r) => !r.ok).map((r) => r.at),
    records,
    phases,
    results,
  }
}

const ms = (value) => (value >= 100 ? value.toFixed(0) : value.toFixed(1))

const codes = (byCode) =>
  Object.entries(byCode)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([code, count]) => `${code} ${count}`)
    .join(', ') || '-'

/** The storms side by side, as a text table (rows in the order given). */
export const formatStormTable = (summaries) => {
  const header = [
    'handler',
    'perf_schema',
    'invocations',
    'failed',
    'p50 ms',
    'p99 ms',
    'p99 warm',
    'peak conns',
    'queries/inv',
    'connects/inv',
    'cold starts',
    'bystander conns killed',
    'bystander txns broken',
    'failures by code',
  ]
  const rows = summaries.map((s) => [
    s.handler,
    s.performanceSchema === undefined ? '-' : s.performanceSchema ? 'on' : 'off',
    String(s.invocations),
    String(s.failures),
    ms(s.p50),
    ms(s.p99),
    ms(s.warmP99),
    `${s.peakConnections}/${s.maxConnections}`,
    s.queriesPerInvocation.toFixed(2),
    s.connectsPerInvocation.toFixed(2),
    String(s.coldStarts),
    s.bystanders ? String(s.bystanders.connectionsKilled) : '-',
    s.bystanders
      ? `${s.bystanders.transactionsBroken}/${s.bystanders.transactionsBroken + s.bystanders.transactionsCommitted}`
      : '-',
    codes(s.failuresByCode),
  ])
  // The Data API service's pool, where a run had one: beside peak conns.
  if (summaries.some((s) => s.peakServiceConnections !== undefined)) {
    header.splice(8, 0, 'service conns')
    summaries.forEach((s, i) => {
      rows[i].splice(8, 0, s.peakServiceConnections === undefined ? '-' : String(s.peakServiceConnections))
    })
  }
  const all = [header, ...rows]
  const widths = header.map((_, column) => Math.max(...all.map((cells) => cells[column].length)))
  const last = header.length - 1
  return all
    .map((cells) =>
      cells
        .map((cell, column) =>
          column === 0 || column === last ? cell.padEnd(widths[column]) : cell.padStart(widths[column]),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}
