// Lambda Managed Instances as the Node.js runtime runs them (lambda-sim worker threads, libuv's
// default threadpool, host 'localhost'): server connections per execution environment and failed
// invocations for concurrency 8 and 64 over 2 and 8 workers. `node examples/managed-instances/measure.mjs`
// (`--ric` first: under the real runtime interface client instead, once `pnpm test:ric` installed it).
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { LambdaEnvironment } from '@middy-downstream/lambda-sim'
import { MariaDbServer, RicEnvironment } from '@middy-downstream/testing'

const handler = path.join(path.dirname(fileURLToPath(import.meta.url)), 'handler.mjs')
// A cold round of 8 (every worker still has room, so each holds a threadpool thread while it
// waits: the DNS stall), then two rounds at full concurrency.
const roundsFor = (concurrency) => [8, concurrency, concurrency]

const connectionsOf = (server) => async () =>
  Number(
    (
      await server.sql(
        "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = 'test' AND ID <> CONNECTION_ID()",
      )
    )[0].n,
  )

/** lambda-sim's worker threads. */
export const simulated = (server, managedInstances) =>
  LambdaEnvironment.start({
    module: handler,
    timeoutMs: 3000,
    output: process.env.MEASURE_OUTPUT ?? 'ignore',
    managedInstances,
    env: { DB_PORT: String(server.port) },
  })

/** The real runtime interface client (aws-lambda-ric) and its worker threads. */
export const underRic = (server, managedInstances) =>
  RicEnvironment.start({
    taskRoot: path.dirname(handler),
    timeoutMs: 3000,
    managedInstances,
    env: { DB_PORT: String(server.port) },
  })

/** Runs the handler in one Managed Instances environment; returns its failures and peak server connections. */
export const measure = async (server, maxConcurrency, workers, start = simulated) => {
  const connections = connectionsOf(server)
  const environment = await start(server, { maxConcurrency, workers })
  let peak = 0
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await connections())
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })()
  const failures = {}
  let failed = 0
  const rounds = roundsFor(maxConcurrency)
  for (const size of rounds) {
    const results = await Promise.all(Array.from({ length: size }, () => environment.invoke({})))
    for (const r of results.filter((r) => !r.ok)) {
      failed += 1
      const { name, message } = r.timedOut
        ? { name: 'Timeout', message: 'no answer by the deadline' }
        : { name: r.error?.name ?? r.error?.errorType, message: r.error?.message ?? r.error?.errorMessage }
      const key = `${name}: ${message?.slice(0, 90)}`
      failures[key] = (failures[key] ?? 0) + 1
    }
  }
  sampling = false
  await sampler
  await environment.close()
  while ((await connections()) > 0) await new Promise((resolve) => setTimeout(resolve, 50))
  return {
    maxConcurrency,
    workers,
    invocations: rounds.reduce((a, b) => a + b),
    failed,
    peakConnections: peak,
    failures,
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const ric = process.argv[2] === '--ric'
  const args = process.argv.slice(ric ? 3 : 2)
  const server = await MariaDbServer.start({ maxConnections: 200 })
  try {
    const cases = args[0]
      ? [args.map(Number)]
      : [
          [8, 2],
          [8, 8],
          [64, 2],
          [64, 8],
        ]
    for (const [concurrency, workers] of cases) {
      console.log(JSON.stringify(await measure(server, concurrency, workers, ric ? underRic : simulated)))
    }
  } finally {
    await server.dispose()
  }
}
