// The connection storm, as a reusable module: a private throwaway MariaDB with a low
// max_connections, a fleet of simulated Lambda environments (lambda-sim) running one of the three
// handlers, bursts of traffic and a pause in which idle environments are reclaimed (abandoned:
// frozen for good, their connections left open on the server). Used by the demo (demo.mjs), its
// test (storm.test.ts) and the benchmarks (bench/run.mjs).
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Fleet, summarizeLatency } from '@middy-downstream/lambda-sim'
import { MariaDbServer } from '@middy-downstream/testing'
import { startBystanders } from './bystanders.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))

/** The three handlers, in the order they are shown. */
export const handlerNames = ['unmanaged', 'serverless-mysql', 'db-connection']

/** Absolute path of a handler module of this folder. */
export const handlerModule = (name) => {
  if (!handlerNames.includes(name)) throw new TypeError(`unknown handler ${name}; one of ${handlerNames}`)
  return path.join(here, `${name}.mjs`)
}

/** The application's database user: no SUPER, so it cannot use the connection MariaDB keeps for admins. */
export const appUser = { user: 'app', password: 'app-pw', database: 'test' }

/**
 * The storm of the demo: a burst at concurrency 40, a pause in which half the idle environments
 * are reclaimed, and another burst, which starts new environments in their place.
 */
export const stormProfile = ({ concurrency = 40, invocations = 400, pauseMs = 6000, reap = 0.5 } = {}) => [
  { name: 'burst', concurrency, invocations },
  { name: `reclaim ${Math.round(reap * 100)}% of idle, pause ${pauseMs / 1000} s`, reap, pauseMs },
  { name: 'second burst', concurrency, invocations },
]

const searchPath = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']

/**
 * Why a private MariaDB cannot start here (its binaries are missing), or undefined when it can.
 * The same places the testing package looks in.
 */
export const mariaDbMissing = () => {
  const missing = ['mariadbd', 'mariadb-install-db'].filter(
    (binary) => !searchPath.some((dir) => existsSync(path.join(dir, binary))),
  )
  return missing.length === 0
    ? undefined
    : `${missing.join(' and ')} not found: the storm runs a private throwaway MariaDB from the local ` +
        "binaries. Install them with `apt-get install -y mariadb-server` (as root; the Quick start's " +
        '`bash scripts/bootstrap.sh` does it), then run again.'
}

/** One statement that reads the server's counters, and the admin session's own statements. */
const countersSql = `SELECT
  (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'THREADS_CONNECTED') AS threads,
  (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'QUESTIONS') AS questions,
  (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'QUESTIONS') AS ownQuestions,
  (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'CONNECTIONS') AS connects`

/**
 * The server's counters, without the admin connection that reads them: `connections` open now
 * (Threads_connected minus this one), `questions` run by every other session so far (global
 * Questions minus this session's, read in the same statement, so the sampler's own reads never
 * count), `connects` attempted so far (successful or not).
 */
export const readCounters = async (server) => {
  const [row] = await server.sql(countersSql)
  return {
    connections: Number(row.threads) - 1,
    questions: Number(row.questions) - Number(row.ownQuestions),
    connects: Number(row.connects),
  }
}

/**
 * Starts a private MariaDB with the application user; dispose it when done. `performanceSchema`:
 * the server attributes connections to their owners (connection attributes readable by the user),
 * as db-connection's reaping needs; off is MariaDB's default.
 */
export const startDatabase = async ({ maxConnections = 20, performanceSchema = false } = {}) => {
  const missing = mariaDbMissing()
  if (missing) throw Object.assign(new Error(missing), { code: 'MARIADB_MISSING' })
  const server = await MariaDbServer.start({
    maxConnections,
    extraArgs: performanceSchema ? ['--performance-schema=ON'] : [],
  })
  const { user, password, database } = appUser
  await server.sql(`CREATE USER IF NOT EXISTS '${user}'@'%' IDENTIFIED BY '${password}'`)
  await server.sql(`GRANT ALL ON ${database}.* TO '${user}'@'%'`)
  // serverless-mysql needs PROCESS to count every connection; db-connection uses it to find zombies.
  await server.sql(`GRANT PROCESS ON *.* TO '${user}'@'%'`)
  if (performanceSchema) await server.sql(`GRANT SELECT ON performance_schema.* TO '${user}'@'%'`)
  return server
}

/**
 * Runs one storm of one handler against a fresh private MariaDB and returns its figures.
 *
 * @param {object} options
 * @param {string} options.handler one of `handlerNames`
 * @param {number} [options.maxConnections] the server's max_connections (20)
 * @param {object[]} [options.profile] lambda-sim phases (`stormProfile()`)
 * @param {number} [options.maxEnvironments] most live environments (50)
 * @param {number} [options.timeoutMs] the function timeout (3000, Lambda's default)
 * @param {number} [options.sampleEveryMs] how often server connections are sampled (100)
 * @param {Record<string, string>} [options.env] more environment variables for the handlers
 * @param {boolean} [options.performanceSchema] the server attributes connections (false)
 * @param {boolean | { application?: number, functions?: number, pauseMs?: number }} [options.bystanders]
 *   run the bystanders alongside (true): another application's pooled connections and another
 *   function's transactions on the same user and database (`startBystanders`' sizes)
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
}) => {
  const module = handlerModule(handler)
  const server = await startDatabase({ maxConnections, performanceSchema })
  const dbEnv = {
    DB_HOST: server.host,
    DB_PORT: String(server.port),
    DB_USER: appUser.user,
    DB_PASSWORD: appUser.password,
    DB_NAME: appUser.database,
  }
  try {
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
      samplers: { connections: async () => (await readCounters(server)).connections },
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
    const before = await readCounters(server)
    const sizes = typeof bystanders === 'object' ? bystanders : {}
    const running = bystanders ? await startBystanders({ server, env: dbEnv, ...sizes }) : undefined
    startedAt = performance.now()
    const results = await fleet.run(profile)
    const suffered = (await running?.stop()) ?? noBystanders
    const after = await readCounters(server)
    // The bystanders' own statements are theirs, not the handler's.
    after.questions -= suffered.statements
    const summary = summarize(handler, maxConnections, results, before, after, records)
    return { ...summary, performanceSchema, bystanders: running ? suffered : undefined }
  } finally {
    await server.dispose()
  }
}

const noBystanders = { connectionsKilled: 0, transactionsBroken: 0, transactionsCommitted: 0, statements: 0 }

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
    peakConnections: Math.max(0, ...connections.filter((value) => typeof value === 'number')),
    queriesPerInvocation: per(after.questions - before.questions),
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

/** The storms side by side, as a text table. */
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
    s.performanceSchema ? 'on' : 'off',
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
