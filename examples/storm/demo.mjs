// `pnpm demo`: a connection storm against Lambda handlers, the way Lambda runs them, on each
// engine: a private throwaway MariaDB (max_connections 20), a private PostgreSQL (20 connections
// for applications) and the local Aurora Data API endpoint over a MariaDB. A fleet of simulated
// environments (child processes, frozen between invocations): a burst at concurrency 40, a pause
// in which half the idle environments are reclaimed (abandoned with their connections open),
// another burst. Then "resume from zero": the Data API endpoint paused while a burst arrives.
// Prints a table per engine and writes a chart of server connections over time per engine.
//   pnpm demo [--engine=mysql|postgres|data-api|all] [--performance-schema=on|off|both]
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { renderStormChart } from './chart.mjs'
import { explainTable, introduction, label, summaryLines } from './demo-text.mjs'
import { formatResume, runResume } from './resume.mjs'
import { engines, formatStormTable, mariaDbMissing, runStorm, stormProfile } from './storm.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const maxConnections = 20
const concurrency = 40
const invocations = 400
const pauseMs = 6000
const reap = 0.5

const argument = (name, fallback) =>
  process.argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1] ?? fallback
const fail = (message) => {
  console.error(`pnpm demo: ${message}`)
  process.exit(1)
}

// --engine=mysql|postgres|data-api|all (default all): which storms run.
const engineArg = argument('engine', 'all')
if (![...engines, 'all'].includes(engineArg))
  fail(`--engine must be one of ${[...engines, 'all'].join(', ')}`)
const selected = engineArg === 'all' ? engines : [engineArg]
// --performance-schema=on|off|both (default both): which attribution modes db-connection runs in (MySQL).
const modeArg = argument('performance-schema', 'both')
if (!['on', 'off', 'both'].includes(modeArg)) fail('--performance-schema must be on, off or both')

const runsOf = {
  mysql: [
    { handler: 'unmanaged', performanceSchema: false },
    { handler: 'serverless-mysql', performanceSchema: false },
    ...(modeArg === 'on' ? [] : [{ handler: 'db-connection', performanceSchema: false }]),
    ...(modeArg === 'off' ? [] : [{ handler: 'db-connection', performanceSchema: true }]),
  ],
  postgres: [
    { handler: 'unmanaged-pg' },
    { handler: 'serverless-postgres' },
    { handler: 'db-connection-pg' },
  ],
  'data-api': [{ handler: 'db-connection-data-api' }],
}

const missing = mariaDbMissing()
if (missing) fail(missing)

const started = performance.now()
const profile = stormProfile({ concurrency, invocations, pauseMs, reap })
console.log(introduction({ engines: selected, maxConnections, concurrency, invocations, pauseMs, reap }))

const interactive = process.stderr.isTTY
const line = (name, text) => `  ${name.padEnd(24)} ${text}`
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

const outDir = path.join(here, 'out')
mkdirSync(outDir, { recursive: true })
const chartTitles = {
  mysql: 'MariaDB',
  postgres: 'PostgreSQL',
  'data-api': 'Data API (local endpoint over MariaDB)',
}
const charts = []
const tables = []
for (const engine of selected) {
  const summaries = []
  for (const run of runsOf[engine]) {
    current = label(run)
    const summary = await runStorm({ ...run, maxConnections, profile, onProgress: progress, onPhase })
    const suffered = summary.bystanders
      ? `bystanders: ${summary.bystanders.connectionsKilled} connections killed, ${summary.bystanders.transactionsBroken} transactions broken`
      : 'no bystanders'
    console.log(
      line(current, `done in ${(summary.durationMs / 1000).toFixed(1)} s: `) +
        `${summary.failures} of ${summary.invocations} failed, peak ${summary.peakConnections} connections, ${suffered}`,
    )
    summaries.push(summary)
  }
  tables.push({ engine, summaries })
  const chartPath = path.join(outDir, engine === 'mysql' ? 'storm.svg' : `storm-${engine}.svg`)
  writeFileSync(
    chartPath,
    renderStormChart(
      summaries.map((s) => ({ ...s, handler: label(s) })),
      {
        title: `Connection storm, ${chartTitles[engine]}: ${maxConnections} connections, concurrency ${concurrency}, ${reap * 100}% of idle environments reclaimed`,
        engine,
      },
    ),
  )
  charts.push(chartPath)
}

let resume
if (selected.includes('data-api')) {
  current = 'resume from zero'
  show(line(current, 'the endpoint paused while two functions receive a burst...'), true)
  resume = await runResume()
}

for (const { engine, summaries } of tables) {
  console.log(
    `\n${chartTitles[engine]}:\n${formatStormTable(summaries.map((s) => ({ ...s, handler: label(s) })))}`,
  )
}
console.log(`\n${explainTable(selected)}`)
const lines = summaryLines(tables)
if (lines.length > 0) console.log(`\n${lines.join('\n')}`)
if (resume) console.log(`\nResume from zero (Data API):\n${formatResume(resume)}`)
console.log(
  `\nCharts of server connections over time: ${charts.map((c) => path.relative(process.cwd(), c) || c).join(', ')}`,
)
console.log(`Wall time: ${((performance.now() - started) / 1000).toFixed(1)} s`)
