// `pnpm bench`: middleware overhead against a bare Middy handler, server round trips per warm
// invocation, Data API latency per statement against a direct connection, the demo's storm repeated, other packages' own overhead benchmarks,
// the import cost of each package at cold start; writes
// bench/RESULTS.md. Needs the MariaDB binaries (`apt-get install -y mariadb-server`).
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { mariaDbMissing, startDatabase } from '../examples/storm/storm.mjs'
import { runChildBenches } from './child-benches.mjs'
import { measureDataApiLatency } from './data-api-latency.mjs'
import { baselineOf, measureImports } from './imports.mjs'
import { importGoals, renderImports, spliceImportGoals, spliceImports } from './imports-report.mjs'
import { describeMachine, waitForQuiet } from './machine.mjs'
import { measureOverhead } from './overhead.mjs'
import { judgeGoals, renderResults, table } from './report.mjs'
import { measureRoundTrips } from './round-trips.mjs'
import { repeatStorm } from './storm-repeat.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..')
const resultsFile = path.join(here, 'RESULTS.md')
const figuresFile = path.join(here, 'out', 'figures.json')

/** Writes RESULTS.md, formatted as `pnpm lint` wants it (Biome aligns the tables). */
const writeResults = (text) => {
  writeFileSync(resultsFile, text)
  const biome = path.join(root, 'node_modules', '.bin', 'biome')
  spawnSync(biome, ['format', '--write', resultsFile], { cwd: root, stdio: 'ignore' })
}

// `node bench/run.mjs --render`: write RESULTS.md again from the figures the last run saved.
if (process.argv.includes('--render')) {
  const figures = JSON.parse(readFileSync(figuresFile, 'utf8'))
  writeResults(renderResults({ ...figures, goals: judgeGoals(figures) }))
  console.log(
    `Wrote ${path.relative(process.cwd(), resultsFile)} from ${path.relative(process.cwd(), figuresFile)}`,
  )
  process.exit(0)
}

// `node bench/run.mjs --imports` (`pnpm bench:imports`): only the import figures, their section
// put into RESULTS.md in place of the last one, every other section kept.
if (process.argv.includes('--imports')) {
  const loadBefore = loadavg().map((n) => +n.toFixed(2))
  const imports = await measureImports({ onEntry: (specifier) => console.error(`  ${specifier}`) })
  const alone = {
    date: new Date().toISOString(),
    node: process.version,
    loadBefore,
    loadAfter: loadavg().map((n) => +n.toFixed(2)),
  }
  mkdirSync(path.dirname(figuresFile), { recursive: true })
  writeFileSync(path.join(here, 'out', 'imports.json'), JSON.stringify({ ...alone, imports }, null, 2))
  const spliced = spliceImports(readFileSync(resultsFile, 'utf8'), renderImports(imports, table, alone))
  writeResults(spliceImportGoals(spliced, importGoals(imports), alone.date))
  for (const g of importGoals(imports))
    console.log(`[${g.met ? 'met' : 'NOT met'}] ${g.goal}\n    ${g.measured}`)
  process.exit(0)
}
const overheadRounds = 5
const cpuInvocations = 2000
const stormRounds = 3

const missing = mariaDbMissing()
if (missing) {
  console.error(`pnpm bench: ${missing}`)
  process.exit(1)
}

const started = performance.now()
const parts = {}
const timed = async (part, work) => {
  const t = performance.now()
  const result = await work()
  parts[part] = (performance.now() - t) / 1000
  return result
}
const log = (line) => console.error(line)

// A quiet private server (default max_connections) for the in-process measurements.
const server = await startDatabase({ maxConnections: 151 })
let machine
let overhead
let roundTrips
let dataApiLatency
try {
  const idle = await waitForQuiet()
  machine = await describeMachine(server)
  if (idle !== undefined) log(`machine ${(idle * 100).toFixed(0)}% idle over the last second before starting`)
  log(`machine: ${machine.cpu}, ${machine.cores} cores, load ${machine.loadAverage.join(' ')}`)
  log('overhead against a bare Middy handler (tinybench)...')
  overhead = await timed('overhead (tinybench)', () =>
    measureOverhead({
      server,
      rounds: overheadRounds,
      cpuInvocations,
      onRound: (n, of) => log(`  round ${n}/${of}`),
    }),
  )
  for (const t of overhead)
    log(
      `  ${t.name.padEnd(46)} CPU ${t.cpuUs.toFixed(1).padStart(7)} µs, wall ${t.meanUs.toFixed(1).padStart(7)} µs${t.baseline ? `  CPU ${t.cpuRatio.toFixed(2)}× (${t.cpuExtraUs >= 0 ? '+' : ''}${t.cpuExtraUs.toFixed(1)} µs)` : ''}`,
    )
  log('server round trips per warm invocation...')
  roundTrips = await timed('round trips', () => measureRoundTrips({ server, invocations: 1000 }))
  for (const [name, r] of Object.entries(roundTrips))
    log(`  ${name.padEnd(34)} +${r.extraPerInvocation.toFixed(3)} statements per invocation`)
  log('Data API (local endpoint) against a direct connection, latency per statement...')
  dataApiLatency = await timed('data api latency', () => measureDataApiLatency({ server }))
  for (const r of dataApiLatency)
    log(
      `  ${r.statement.padEnd(20)} ${r.dataApiMedianMs.toFixed(3)} ms against ${r.directMedianMs.toFixed(3)} ms: ${r.ratio.toFixed(1)}×`,
    )
} finally {
  await server.dispose()
}

// The microsecond and millisecond measurements first: the storm loads the machine for minutes
// after (its environments and servers wind down), which showed as several µs on every figure.
await waitForQuiet()
log("other packages' overhead benchmarks...")
const children = await timed('other packages', () =>
  runChildBenches({ root, onStart: (name) => log(`  ${name}`) }),
)
for (const child of children) log(`  ${child.name}: ${child.status}`)

log('import cost at cold start, fresh processes per entry...')
const imports = await timed('imports', () =>
  measureImports({ onEntry: (specifier) => log(`  ${specifier}`) }),
)
for (const r of imports.rows)
  log(`  ${r.specifier.padEnd(42)} CPU +${r.cpu.extraMs.toFixed(1)} ms over ${baselineOf(r)}`)

log(`the storm, ${stormRounds} runs per handler...`)
const storm = await timed('storm, repeated', () =>
  repeatStorm({
    rounds: stormRounds,
    onRun: (round, rounds, s) =>
      log(
        `  run ${round}/${rounds} ${s.handler.padEnd(17)} ${String(s.failures).padStart(4)} failed, p99 ${s.p99.toFixed(0)} ms, p99 warm ${s.warmP99.toFixed(0)} ms, ${s.queriesPerInvocation.toFixed(2)} queries/inv`,
      ),
  }),
)

const machineAfter = await describeMachine()
parts.total = (performance.now() - started) / 1000
// The storm runs without their per-invocation records and samples: the figures, not the raw data.
for (const runs of Object.values(storm.runs))
  for (const run of runs) for (const key of ['records', 'samples', 'results', 'failureTimes']) delete run[key]
const figures = {
  machine,
  machineAfter,
  overhead,
  roundTrips,
  dataApiLatency,
  storm,
  children,
  imports,
  timings: { overheadRounds, cpuInvocations, stormRounds, parts },
}
mkdirSync(path.dirname(figuresFile), { recursive: true })
writeFileSync(figuresFile, JSON.stringify(figures, null, 2))
const goals = judgeGoals(figures)
writeResults(renderResults({ ...figures, goals }))
console.log('\nGoals:')
for (const g of goals) console.log(`  [${g.met ? 'met' : 'NOT met'}] ${g.goal}\n      ${g.measured}`)
console.log(`\nWrote ${path.relative(process.cwd(), resultsFile)} in ${parts.total.toFixed(0)} s`)
