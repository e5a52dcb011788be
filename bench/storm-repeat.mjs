// The demo's storm, repeated: each round runs every handler once (in a rotated order, so a
// burst of other work on the machine does not always land on the same handler), each against a
// fresh private MariaDB. Reports mean ± standard deviation over the rounds, and every run (`runs[handler][round]`) for
// comparisons within a round.
import { handlersByEngine, runStorm, stormProfile } from '../examples/storm/storm.mjs'

// The MariaDB storm's handlers (the demo's other engines are not repeated here).
const handlerNames = handlersByEngine.mysql

const stats = (values) => {
  const n = values.length
  const mean = values.reduce((a, b) => a + b, 0) / n
  const sd = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0
  return { mean, sd, min: Math.min(...values), max: Math.max(...values), values }
}

export const repeatStorm = async ({
  rounds = 3,
  maxConnections = 20,
  profile = stormProfile(),
  onRun,
} = {}) => {
  const runs = Object.fromEntries(handlerNames.map((name) => [name, []]))
  for (let round = 0; round < rounds; round++) {
    const order = handlerNames.map((_, i) => handlerNames[(i + round) % handlerNames.length])
    for (const handler of order) {
      // db-connection in the mode where it reaps (performance_schema on): its costliest.
      const performanceSchema = handler === 'db-connection'
      const summary = await runStorm({ handler, maxConnections, profile, performanceSchema })
      runs[handler].push(summary)
      onRun?.(round + 1, rounds, summary)
    }
  }
  const summary = handlerNames.map((handler) => {
    const list = runs[handler]
    const failuresByCode = {}
    for (const s of list)
      for (const [code, count] of Object.entries(s.failuresByCode))
        failuresByCode[code] = (failuresByCode[code] ?? 0) + count
    return {
      handler,
      runs: list.length,
      invocations: list[0]?.invocations ?? 0,
      failures: stats(list.map((s) => s.failures)),
      failuresByCode,
      p50: stats(list.map((s) => s.p50)),
      p99: stats(list.map((s) => s.p99)),
      warmP99: stats(list.map((s) => s.warmP99)),
      peakConnections: stats(list.map((s) => s.peakConnections)),
      queriesPerInvocation: stats(list.map((s) => s.queriesPerInvocation)),
      connectsPerInvocation: stats(list.map((s) => s.connectsPerInvocation)),
      durationMs: stats(list.map((s) => s.durationMs)),
    }
  })
  return { summary, runs }
}
