// `pnpm demo`: a connection storm against three Lambda handlers, the way Lambda runs them.
// A private throwaway MariaDB (max_connections 20) and a fleet of simulated environments
// (child processes, frozen between invocations): a burst at concurrency 40, a pause in which half
// the idle environments are reclaimed (abandoned with their connections open), another burst.
// Prints a table and writes a chart of server connections over time.
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { renderStormChart } from './chart.mjs'
import { formatStormTable, handlerNames, mariaDbMissing, runStorm, stormProfile } from './storm.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const maxConnections = 20
const concurrency = 40
const invocations = 400
const pauseMs = 6000
const reap = 0.5

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
    `  db-connection     Middy + @middy-downstream/db-connection, defaults\n` +
    `Each run: ${invocations} invocations at concurrency ${concurrency} (up to ${concurrency} environments, frozen between invocations),\n` +
    `a ${pauseMs / 1000} s pause in which ${reap * 100}% of the idle environments are reclaimed (frozen for good, connections left open),\n` +
    `then ${invocations} more. One SELECT per invocation; function timeout 3 s.\n`,
)

const interactive = process.stderr.isTTY
const line = (handler, text) => `  ${handler.padEnd(17)} ${text}`
const show = (text, final) => {
  if (interactive) process.stderr.write(`\r${text}\x1b[K${final ? '\n' : ''}`)
  else process.stderr.write(`${text}\n`)
}
const progress = ({ handler, phase, name, done, total, failures }) => {
  const text = line(handler, `${name ?? `phase ${phase}`}: ${done}/${total} invocations, ${failures} failed`)
  if (interactive || done === total || done % 100 === 0) show(text, done === total)
}
const onPhase = ({ handler, phase }) => {
  if (!phase.invocations) show(line(handler, `${phase.name}...`), true)
}

const summaries = []
for (const handler of handlerNames) {
  const summary = await runStorm({ handler, maxConnections, profile, onProgress: progress, onPhase })
  console.log(
    `  ${handler.padEnd(17)} done in ${(summary.durationMs / 1000).toFixed(1)} s: ` +
      `${summary.failures} of ${summary.invocations} failed, peak ${summary.peakConnections} connections`,
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
  ].join('\n'),
)

const byName = Object.fromEntries(summaries.map((s) => [s.handler, s]))
const unmanaged = byName.unmanaged
const sls = byName['serverless-mysql']
const managed = byName['db-connection']
console.log(
  `\nunmanaged: ${unmanaged.failures} failed invocations; ` +
    `serverless-mysql: ${sls.failures} (p99 warm ${sls.warmP99.toFixed(0)} ms, ${sls.queriesPerInvocation.toFixed(2)} queries/inv); ` +
    `db-connection: ${managed.failures} (p99 warm ${managed.warmP99.toFixed(0)} ms, ${managed.queriesPerInvocation.toFixed(2)} queries/inv).`,
)

const outDir = path.join(here, 'out')
mkdirSync(outDir, { recursive: true })
const chartPath = path.join(outDir, 'storm.svg')
writeFileSync(
  chartPath,
  renderStormChart(summaries, {
    title: `Connection storm: max_connections ${maxConnections}, concurrency ${concurrency}, ${reap * 100}% of idle environments reclaimed`,
  }),
)
console.log(
  `\nChart of server connections over time: ${path.relative(process.cwd(), chartPath) || chartPath}`,
)
console.log(`Wall time: ${((performance.now() - started) / 1000).toFixed(1)} s`)
