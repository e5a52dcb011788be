// Per-invocation cost of each middleware against a bare Middy handler, in the same process and
// the same run, with tinybench. The tasks run in rounds, in a rotated order each round, and each
// figure is the median over the rounds: the machine may be shared, and a burst of someone else's
// work then lands on one round of one task rather than on the ratio.
import middy from '@middy/core'
import mysql from 'mysql2/promise'
import { Bench } from 'tinybench'
import dbConnection from '../packages/db-connection/dist/index.js'
import eventLoopRelease from '../packages/event-loop-release/dist/index.js'
import { median } from './stats.mjs'

/** A fresh Lambda context per invocation, with a constant remaining time (3 s). */
const context = () => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'bench',
  awsRequestId: 'bench',
  getRemainingTimeInMillis: () => 3000,
})

const ok = { statusCode: 200 }

/** CPU time (user + system, this process) and wall time per invocation over `n` sequential ones. */
const cpuPerInvocation = async (handler, n) => {
  const cpu = process.cpuUsage()
  const started = performance.now()
  for (let i = 0; i < n; i++) await handler({}, context())
  const used = process.cpuUsage(cpu)
  return { cpuUs: (used.user + used.system) / n, wallUs: ((performance.now() - started) * 1000) / n }
}

/**
 * Runs the overhead tasks against `server` (a private MariaDB) and returns, per task, the median
 * over the rounds of: its mean and p50 wall time per invocation (tinybench, µs), its CPU time per
 * invocation (µs), and their ratios to and differences from its baseline.
 */
export const measureOverhead = async ({
  server,
  rounds = 3,
  timeMs = 700,
  cpuInvocations = 2000,
  onRound,
} = {}) => {
  const config = {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: server.database,
  }
  // The baseline runs with the driver settings the middleware uses (mysql2's per-statement stack
  // capture, `trace`, off): the split then measures our code, not a setting. What a user saves
  // over mysql2's defaults shows against the raw connection with `trace` on.
  const raw = await mysql.createConnection({ ...config, trace: false })
  raw.on('error', () => {})
  const rawDefaults = await mysql.createConnection(config)
  rawDefaults.on('error', () => {})
  const tasks = [
    { name: 'bare Middy handler', baseline: null, handler: middy().handler(async () => ok) },
    {
      name: 'event-loop-release',
      baseline: 'bare Middy handler',
      handler: middy()
        .use(eventLoopRelease())
        .handler(async () => ok),
    },
    {
      name: 'db-connection, handler runs no query',
      baseline: 'bare Middy handler',
      handler: middy()
        .use(dbConnection({ config }))
        .handler(async () => ok),
    },
    {
      name: 'bare Middy + raw mysql2 connection, SELECT 1',
      baseline: null,
      handler: middy().handler(async () => {
        const [rows] = await raw.query('SELECT 1 AS one')
        return rows[0]
      }),
    },
    {
      name: "bare Middy + raw mysql2 connection with mysql2's defaults (trace on), SELECT 1",
      baseline: null,
      handler: middy().handler(async () => {
        const [rows] = await rawDefaults.query('SELECT 1 AS one')
        return rows[0]
      }),
    },
    {
      name: 'db-connection, SELECT 1',
      baseline: 'bare Middy + raw mysql2 connection, SELECT 1',
      handler: middy()
        .use(dbConnection({ config }))
        .handler(async (_event, ctx) => (await ctx.db.query('SELECT 1 AS one'))[0]),
    },
    // Eleven statements against one: the difference, over ten, is the cost of a statement; what is
    // left of the one-statement figure is the cost of an invocation (acquire and release).
    {
      name: 'bare Middy + raw mysql2 connection, 11 × SELECT 1',
      baseline: null,
      handler: middy().handler(async () => {
        let rows
        for (let i = 0; i < 11; i++) [rows] = await raw.query('SELECT 1 AS one')
        return rows[0]
      }),
    },
    {
      name: 'db-connection, 11 × SELECT 1',
      baseline: 'bare Middy + raw mysql2 connection, 11 × SELECT 1',
      handler: middy()
        .use(dbConnection({ config }))
        .handler(async (_event, ctx) => {
          let rows
          for (let i = 0; i < 11; i++) rows = await ctx.db.query('SELECT 1 AS one')
          return rows[0]
        }),
    },
  ]
  const perRound = []
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({ time: timeMs, warmupTime: 150 })
    const order = tasks.map((_, i) => tasks[(i + round) % tasks.length])
    for (const task of order) bench.add(task.name, () => task.handler({}, context()))
    await bench.run()
    const figures = {}
    for (const task of bench.tasks) {
      const result = task.result
      if (result.state !== 'completed') {
        throw new Error(`bench task "${task.name}" ${result.state}: ${result.error?.message ?? ''}`)
      }
      figures[task.name] = {
        meanUs: result.latency.mean * 1000,
        p50Us: result.latency.p50 * 1000,
        samples: result.latency.samplesCount,
      }
    }
    // The same tasks by CPU time: the server's work (another process) is left out, and so is
    // the wait for its answer, which dominates the wall time of a query.
    for (const task of order) {
      Object.assign(figures[task.name], await cpuPerInvocation(task.handler, cpuInvocations))
    }
    perRound.push(figures)
    onRound?.(round + 1, rounds)
  }
  raw.destroy()
  rawDefaults.destroy()
  return tasks.map((task) => {
    const mean = median(perRound.map((f) => f[task.name].meanUs))
    const p50 = median(perRound.map((f) => f[task.name].p50Us))
    const ratio = task.baseline
      ? median(perRound.map((f) => f[task.name].meanUs / f[task.baseline].meanUs))
      : undefined
    const extraUs = task.baseline
      ? median(perRound.map((f) => f[task.name].meanUs - f[task.baseline].meanUs))
      : undefined
    const extraP50Us = task.baseline
      ? median(perRound.map((f) => f[task.name].p50Us - f[task.baseline].p50Us))
      : undefined
    const cpuUs = median(perRound.map((f) => f[task.name].cpuUs))
    const cpuRatio = task.baseline
      ? median(perRound.map((f) => f[task.name].cpuUs / f[task.baseline].cpuUs))
      : undefined
    const cpuExtraUs = task.baseline
      ? median(perRound.map((f) => f[task.name].cpuUs - f[task.baseline].cpuUs))
      : undefined
    return {
      name: task.name,
      baseline: task.baseline,
      cpuUs,
      cpuRatio,
      cpuExtraUs,
      meanUs: mean,
      p50Us: p50,
      ratio,
      extraUs,
      extraP50Us,
      samples: perRound.reduce((sum, f) => sum + f[task.name].samples, 0),
    }
  })
}
