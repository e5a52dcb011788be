// Renders bench/RESULTS.md from the figures of one `pnpm bench` run.
import { importGoals, renderImports } from './imports-report.mjs'

const us = (value) => (value === undefined ? '' : value.toFixed(value >= 100 ? 0 : 1))
const signed = (value) => (value === undefined ? '' : `${value >= 0 ? '+' : ''}${us(value)}`)
const x = (ratio) => (ratio === undefined ? '' : `${ratio.toFixed(2)}×`)
const ms = (value) => (value >= 100 ? value.toFixed(0) : value.toFixed(1))
const pm = ({ mean, sd }, digits = 0) => `${mean.toFixed(digits)} ± ${sd.toFixed(digits)}`

/** A figure (right-aligned): a number with an optional ± spread or unit, or a dash. */
const isFigure = (cell) => /^([-+]?[\d.]+( ± [\d.]+)?(×| ms| µs| s| KB)?|—|)$/.test(cell)

export const table = (header, rows) => {
  const align = header.map((_, i) =>
    i > 0 && rows.length > 0 && rows.every((row) => isFigure(row[i])) ? '---:' : '---',
  )
  const lines = [`| ${header.join(' | ')} |`, `| ${align.join(' | ')} |`]
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`)
  return lines.join('\n')
}

const codes = (byCode) =>
  Object.entries(byCode)
    .sort(([a, m], [b, n]) => n - m || a.localeCompare(b))
    .map(([code, count]) => `${code} ${count}`)
    .join(', ') || 'none'

/** Each goal of issue 7 (and the round-trip goal of issue 3), judged from the figures. */
export const judgeGoals = ({ overhead, roundTrips, storm, imports, children = [] }) => {
  const byName = Object.fromEntries(overhead.map((task) => [task.name, task]))
  const runs = storm.runs
  const rounds = runs['db-connection'].length
  const managedFailures = runs['db-connection'].map((s) => s.failures)
  const unmanagedFailures = runs.unmanaged.map((s) => s.failures)
  const pairs = runs['db-connection'].map((managed, i) => ({ managed, sls: runs['serverless-mysql'][i] }))
  const p99Wins = pairs.filter(({ managed, sls }) => managed.p99 <= sls.p99).length
  const warmWins = pairs.filter(({ managed, sls }) => managed.warmP99 <= sls.warmP99).length
  const ratio = (key) => pairs.map(({ managed, sls }) => managed[key] / sls[key])
  const meanOf = (values) => values.reduce((a, b) => a + b, 0) / values.length
  const slsQ = meanOf(runs['serverless-mysql'].map((s) => s.queriesPerInvocation))
  const managedQ = meanOf(runs['db-connection'].map((s) => s.queriesPerInvocation))
  const rtManaged = roundTrips['db-connection (defaults)'].extraPerInvocation
  const rtSls = roundTrips['serverless-mysql (query, end())'].extraPerInvocation
  const noQuery = byName['db-connection, handler runs no query']
  const withQuery = byName['db-connection, SELECT 1']
  const elr = byName['event-loop-release']
  const rawDefaults = byName["bare Middy + raw mysql2 connection with mysql2's defaults (trace on), SELECT 1"]
  return [
    {
      goal: 'db-connection: zero failed invocations in the storm, where the unmanaged handler fails',
      met: managedFailures.every((n) => n === 0) && unmanagedFailures.every((n) => n > 0),
      measured: `db-connection failed ${managedFailures.join(', ')} of ${runs['db-connection'][0].invocations} per run; unmanaged ${unmanagedFailures.join(', ')}`,
    },
    {
      goal: "db-connection: p99 latency no worse than serverless-mysql's in the same run",
      met: p99Wins === rounds && warmWins === rounds,
      measured:
        `p99 (cold starts included): db-connection ≤ serverless-mysql in ${p99Wins} of ${rounds} runs, ratio ${ratio(
          'p99',
        )
          .map((r) => r.toFixed(2))
          .join(', ')}; ` +
        `p99 of warm invocations: ${warmWins} of ${rounds}, ratio ${ratio('warmP99')
          .map((r) => r.toFixed(2))
          .join(', ')}`,
    },
    {
      goal: 'db-connection: fewer server queries per invocation than serverless-mysql',
      met: managedQ < slsQ && rtManaged < rtSls,
      measured: `storm: ${managedQ.toFixed(2)} vs ${slsQ.toFixed(2)} per invocation (one is the handler's own); quiet server, warm: +${rtManaged.toFixed(3)} vs +${rtSls.toFixed(3)} per invocation`,
    },
    {
      goal: 'db-connection adds at most 0.05 server round trips per warm invocation (issue 3)',
      met: rtManaged <= 0.05,
      measured: `+${rtManaged.toFixed(3)} statements per invocation over ${roundTrips['db-connection (defaults)'].invocations}`,
    },
    {
      goal: "every middleware's warm-path overhead within a few microseconds of a bare handler",
      met: [elr, noQuery, withQuery].every((task) => task.cpuExtraUs <= 5),
      measured:
        `CPU per invocation over its baseline: event-loop-release ${signed(elr.cpuExtraUs)} µs (${x(elr.cpuRatio)}); ` +
        `db-connection, no query ${signed(noQuery.cpuExtraUs)} µs (${x(noQuery.cpuRatio)}); ` +
        `db-connection with SELECT 1 ${signed(withQuery.cpuExtraUs)} µs over a bare Middy handler with a raw mysql2 connection (${x(withQuery.cpuRatio)}; wall ${signed(withQuery.extraUs)} µs, ${x(withQuery.ratio)})` +
        (rawDefaults
          ? `, ${signed(withQuery.cpuUs - rawDefaults.cpuUs)} µs over one with mysql2's defaults (trace on); issue 10's split per statement and per invocation is db-connection's own bench, below`
          : ''),
    },
    ...children.flatMap((child) => child.goals ?? []),
    ...importGoals(imports),
  ]
}

/** Latency per statement through the Data API (local endpoint) against a direct connection. */
const dataApiSection = (rows) =>
  rows
    ? [
        '## Data API latency per statement against a direct connection',
        '',
        `The Data API engine with the real SDK client against the local Data API endpoint of @middy-downstream/testing,`,
        'over the same quiet private MariaDB as a managed mysql2 connection; same process, rounds alternating the',
        `order, ${rows[0].statements} of each statement on each path after a warm-up round. The local endpoint is the floor of the HTTP path`,
        '(signing, JSON both ways, one more hop); in AWS the service adds its own time per call: read the ratio.',
        '',
        table(
          [
            'statement',
            'Data API median ms',
            'Data API p99 ms',
            'direct median ms',
            'direct p99 ms',
            'ratio',
          ],
          rows.map((r) => [
            r.statement,
            r.dataApiMedianMs.toFixed(3),
            r.dataApiP99Ms.toFixed(3),
            r.directMedianMs.toFixed(3),
            r.directP99Ms.toFixed(3),
            `${r.ratio.toFixed(1)}×`,
          ]),
        ),
        '',
      ]
    : []

export const renderResults = ({
  machine,
  machineAfter,
  overhead,
  roundTrips,
  dataApiLatency,
  storm,
  children,
  imports,
  goals,
  timings,
}) => {
  const out = []
  out.push(
    '# Benchmark results',
    '',
    `Written by \`pnpm bench\` (bench/run.mjs) on ${machine.date}. Every figure below comes from that one run.`,
    '',
    '## Machine and versions',
    '',
    table(
      ['what', 'value'],
      [
        ['CPU', `${machine.cpu}, ${machine.cores} cores`],
        ['memory', `${machine.memoryGiB} GiB`],
        ['OS', machine.platform],
        [
          'load average (1, 5, 15 min)',
          `${machine.loadAverage.join(', ')} at the start; ${machineAfter.loadAverage.join(', ')} at the end`,
        ],
        ['Node.js', machine.node],
        ['Middy (@middy/core)', machine.middy],
        ['mysql2', machine.mysql2],
        ['serverless-mysql', machine.serverlessMysql],
        ['tinybench', machine.tinybench],
        ['MariaDB', machine.mariadb],
      ],
    ),
    '',
    'The machine may be shared (other work running at the same time shows in the load average):',
    'compare figures within this file, measured in the same run, rather than across runs.',
    '',
    '## Goals',
    '',
    table(
      ['goal', 'met', 'measured'],
      goals.map((g) => [g.goal, g.met ? 'yes' : '**no**', g.measured]),
    ),
    '',
    '## Middleware overhead against a bare Middy handler',
    '',
    `Same process, same run; ${timings.overheadRounds} rounds in a rotated order, each figure the median over the rounds.`,
    'Wall time per invocation from tinybench (mean, p50); CPU time per invocation (user + system of this',
    `process, \`process.cpuUsage\`) over ${timings.cpuInvocations} sequential invocations, which leaves out the server's work and the`,
    'wait for its answer. Each invocation gets a fresh context (remaining time 3 s). The SELECT 1 tasks run',
    'on a private MariaDB over TCP on the loopback; the connections are warm (opened in the warm-up).',
    "The raw mysql2 baselines run with the middleware's driver settings (`trace: false`: no stack captured per",
    "statement); the row with mysql2's defaults shows what that setting saves a user.",
    '',
    table(
      [
        'task',
        'CPU µs',
        'wall mean µs',
        'wall p50 µs',
        'against',
        'CPU ratio',
        'CPU extra µs',
        'wall ratio',
        'wall extra µs (mean, p50)',
      ],
      overhead.map((t) => [
        t.name,
        us(t.cpuUs),
        us(t.meanUs),
        us(t.p50Us),
        t.baseline ?? '—',
        x(t.cpuRatio),
        signed(t.cpuExtraUs),
        x(t.ratio),
        t.baseline ? `${signed(t.extraUs)}, ${signed(t.extraP50Us)}` : '',
      ]),
    ),
    '',
    '## Server round trips added per warm invocation',
    '',
    `The server's global \`Questions\` (statements, COM_QUIT included) over ${Object.values(roundTrips)[0].invocations}`,
    "sequential invocations of one `SELECT 1` each, 2 ms apart, on a quiet private MariaDB, minus the handler's",
    'own statements; the admin connection that reads the counter is subtracted in the same read. Each handler',
    "starts cold, so its first invocation is included (db-connection reads the server's capacity at its first",
    'release, then at most every 15 s; serverless-mysql reads the process list at every `end()` and',
    '`max_connections` every 15 s).',
    '',
    table(
      ['handler', 'statements', 'extra per invocation', 'connects', 'time ms'],
      Object.entries(roundTrips).map(([name, r]) => [
        name,
        String(r.questions),
        `+${r.extraPerInvocation.toFixed(3)}`,
        String(r.connects),
        r.elapsedMs.toFixed(0),
      ]),
    ),
    '',
    ...dataApiSection(dataApiLatency),
    '## The storm, repeated',
    '',
    `The demo's storm (\`pnpm demo\`), ${timings.stormRounds} runs per handler, each against a fresh private MariaDB with`,
    `max_connections ${storm.runs.unmanaged[0].maxConnections}: ${storm.summary[0].invocations / 2} invocations at concurrency 40, a 6 s pause in which half the idle`,
    'environments are reclaimed (frozen for good, their connections left open), and the same again.',
    'Mean ± standard deviation over the runs. p99 warm leaves out the invocations that waited for a cold',
    'start (all three handlers start the same environments). Queries per invocation include the',
    "handler's own SELECT and COM_QUIT of every close.",
    '',
    table(
      [
        'handler',
        'failed',
        'p50 ms',
        'p99 ms',
        'p99 warm ms',
        'peak conns',
        'queries/inv',
        'connects/inv',
        'failures by code (all runs)',
      ],
      storm.summary.map((s) => [
        s.handler,
        pm(s.failures, 1),
        pm(s.p50),
        pm(s.p99),
        pm(s.warmP99),
        pm(s.peakConnections, 1),
        pm(s.queriesPerInvocation, 2),
        pm(s.connectsPerInvocation, 2),
        codes(s.failuresByCode),
      ]),
    ),
    '',
    'Every run:',
    '',
    table(
      [
        'run',
        'handler',
        'failed',
        'p50 ms',
        'p99 ms',
        'p99 warm ms',
        'peak conns',
        'queries/inv',
        'duration s',
      ],
      storm.runs['db-connection'].flatMap((_, round) =>
        Object.keys(storm.runs).map((handler) => {
          const s = storm.runs[handler][round]
          return [
            String(round + 1),
            handler,
            String(s.failures),
            ms(s.p50),
            ms(s.p99),
            ms(s.warmP99),
            String(s.peakConnections),
            s.queriesPerInvocation.toFixed(2),
            (s.durationMs / 1000).toFixed(1),
          ]
        }),
      ),
    ),
    '',
    "## Other packages' overhead benchmarks",
    '',
  )
  for (const child of children) {
    out.push(`### ${child.name}`, '')
    if (child.status === 'missing') {
      out.push(`\`${child.script}\` does not exist yet: not run.`, '')
      continue
    }
    out.push(
      `\`node ${child.script}\`: ${child.status}, ${(child.elapsedMs / 1000).toFixed(1)} s.`,
      '',
      '```',
      (child.stdout.trim() || '(no output)').slice(0, 20_000),
      '```',
      '',
    )
    if (child.status !== 'ok' && child.stderr.trim()) {
      out.push(
        'stderr (last lines):',
        '',
        '```',
        child.stderr.trim().split('\n').slice(-15).join('\n'),
        '```',
        '',
      )
    }
  }
  out.push(
    ...renderImports(imports, table),
    '## Timings of this run',
    '',
    table(
      ['part', 'seconds'],
      Object.entries(timings.parts).map(([part, seconds]) => [part, seconds.toFixed(1)]),
    ),
    '',
  )
  return out.join('\n')
}
