// `pnpm demo`: a connection storm against three Lambda handlers, the way Lambda runs them.
// A private throwaway MariaDB (max_connections 20) and a fleet of simulated environments
// (child processes, frozen between invocations): a burst at concurrency 40, a pause in which half
// the idle environments are reclaimed (abandoned with their connections open), another burst.
// Prints a table and writes a chart of server connections over time.
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { renderStormChart } from './chart.mjs'
import { formatStormTable, mariaDbMissing, runStorm, stormProfile } from './storm.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const maxConnections = 20
const concurrency = 40
const invocations = 400
const pauseMs = 6000
const reap = 0.5

// --performance-schema=on|off|both (default both): which attribution modes db-connection runs in.
const modeArg = process.argv.find((arg) => arg.startsWith('--performance-schema='))?.split('=')[1] ?? 'both'
if (!['on', 'off', 'both'].includes(modeArg)) {
  console.error('pnpm demo: --performance-schema must be on, off or both')
  process.exit(1)
}
const runs = [
  { handler: 'unmanaged', performanceSchema: false },
  { handler: 'serverless-mysql', performanceSchema: false },
  ...(modeArg === 'on' ? [] : [{ handler: 'db-connection', performanceSchema: false }]),
  ...(modeArg === 'off' ? [] : [{ handler: 'db-connection', performanceSchema: true }]),
]

const missing = mariaDbMissing()
if (missing) {
  console.error(`pnpm demo: ${missing}`)
  process.exit(1)
}

const started = performance.now()
const profile = stormProfile({ concurrency, invocations, pauseMs, reap })
console.log(
  `A connection storm against a private MariaDB with max_connections ${maxConnections}, for each of three handlers:\n` +
    `  unmanaged         a mysql2 connection per environment at module scope, never closed\n` +
    `  serverless-mysql  serverless-mysql as its README says: query, then end()\n` +
    `  db-connection     Middy + @middy-downstream/db-connection, defaults plus functionTimeout: 3;\n` +
    `                    once with performance_schema off (MariaDB's default: no reaping), once on (reaping by owner)\n` +
    `Each run: ${invocations} invocations at concurrency ${concurrency} (up to ${concurrency} environments, frozen between invocations),\n` +
    `a ${pauseMs / 1000} s pause in which ${reap * 100}% of the idle environments are reclaimed (frozen for good, connections left open),\n` +
    `then ${invocations} more. One SELECT per invocation; function timeout 3 s.\n` +
    `Bystanders on the same user and database: another application's 3 pooled connections (a query every 4 s each),\n` +
    `and another function (timeout 60 s, 2 environments) whose invocations hold a transaction open across a 4 s pause.\n`,
)

const interactive = process.stderr.isTTY
const label = ({ handler, performanceSchema }) =>
  handler === 'db-connection' ? `${handler} (ps ${performanceSchema ? 'on' : 'off'})` : handler
const line = (name, text) => `  ${name.padEnd(22)} ${text}`
const show = (text, final) => {
  if (interactive) process.stderr.write(`\r${text}\x1b[K${final ? '\n' : ''}`)
  else process.stderr.write(`${text}\n`)
}
let current = ''
const progress = ({ phase, name, done, total, failures }) => {
  const text = line(current, `${name ?? `phase ${phase}`}: ${done}/${total} invocations, ${failures} failed`)
  if (interactive || done === total || done % 100 === 0) show(text, done === total)
}
const onPhase = ({ phase }) => {
  if (!phase.invocations) show(line(current, `${phase.name}...`), true)
}

const summaries = []
for (const run of runs) {
  current = label(run)
  const summary = await runStorm({ ...run, maxConnections, profile, onProgress: progress, onPhase })
  const { connectionsKilled, transactionsBroken } = summary.bystanders
  console.log(
    line(current, `done in ${(summary.durationMs / 1000).toFixed(1)} s: `) +
      `${summary.failures} of ${summary.invocations} failed, peak ${summary.peakConnections} connections, ` +
      `bystanders: ${connectionsKilled} connections killed, ${transactionsBroken} transactions broken`,
  )
  summaries.push(summary)
}

console.log(`\n${formatStormTable(summaries)}\n`)
console.log(
  [
    'p50, p99      from issuing an invocation to its result, cold starts included (all three start the',
    '              same environments); p99 warm: the invocations that found a warm environment',
    "peak conns    the server's Threads_connected, the sampler's own connection left out (a refused",
    '              connection counts while it is being turned away)',
    "queries/inv   the server's Questions (statements, COM_QUIT included) per invocation, the sampler's",
    '              own left out; each handler runs one SELECT per invocation',
    "connects/inv  connection attempts (the server's Connections), refused ones included",
    'perf_schema   whether the server attributes connections to their owners (performance_schema on,',
    '              connection attributes readable by the user)',
    'bystander conns killed  connections of the application outside Lambda that the server closed under it',
    'bystander txns broken   transactions of the other function that began and never committed, of all it began',
  ].join('\n'),
)

const byLabel = Object.fromEntries(summaries.map((s) => [label(s), s]))
const sls = byLabel['serverless-mysql']
console.log('')
for (const name of Object.keys(byLabel).filter((n) => n.startsWith('db-connection'))) {
  const managed = byLabel[name]
  console.log(
    `${name}: ${managed.failures} failed, ${managed.queriesPerInvocation.toFixed(2)} statements/inv ` +
      `(${(managed.queriesPerInvocation / sls.queriesPerInvocation).toFixed(2)}x serverless-mysql's ${sls.queriesPerInvocation.toFixed(2)}), ` +
      `bystanders ${managed.bystanders.connectionsKilled} killed / ${managed.bystanders.transactionsBroken} broken ` +
      `(serverless-mysql: ${sls.bystanders.connectionsKilled} / ${sls.bystanders.transactionsBroken}).`,
  )
}

const outDir = path.join(here, 'out')
mkdirSync(outDir, { recursive: true })
const chartPath = path.join(outDir, 'storm.svg')
writeFileSync(
  chartPath,
  renderStormChart(
    summaries.map((s) => ({ ...s, handler: label(s) })),
    {
      title: `Connection storm: max_connections ${maxConnections}, concurrency ${concurrency}, ${reap * 100}% of idle environments reclaimed`,
    },
  ),
)
console.log(
  `\nChart of server connections over time: ${path.relative(process.cwd(), chartPath) || chartPath}`,
)
console.log(`Wall time: ${((performance.now() - started) / 1000).toFixed(1)} s`)
