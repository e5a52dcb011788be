// The per-invocation and per-statement CPU cost of a connection middleware over a bare Middy
// handler with a raw client, as issue 10 states its goal (≤ 5 µs each). Used by the packages'
// own benches (packages/<name>/bench/overhead.mjs), which `pnpm bench` runs as children.
//
// One and eleven statements per invocation, each against its bare twin: the difference over ten
// statements is the cost of a statement, what is left of the one-statement figure the cost of an
// invocation (acquire and release). CPU time (user + system) of this process in alternating
// rounds; each extra is the median over rounds of the difference within a round.
import { spawnSync } from 'node:child_process'
import { median, medianError } from './stats.mjs'

/**
 * Runs this script again pinned to one core, with its server (a child, which inherits the
 * affinity): on a 2-core machine the figures otherwise swing with whether the server shares our
 * core. Returns false in the parent (the pinned child did the work), true where the work runs.
 */
export const runPinned = () => {
  if (process.env.MDD_BENCH_PINNED || process.platform !== 'linux') return true
  const pinned = spawnSync('taskset', ['-c', '0', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, MDD_BENCH_PINNED: '1' },
  })
  if (pinned.error) return true // no taskset: run unpinned
  process.exitCode = pinned.status ?? 1
  return false
}

const cpuPerInvocation = async (handler, invocations, contextOf) => {
  const start = process.cpuUsage()
  for (let i = 0; i < invocations; i++) await handler({}, contextOf())
  const used = process.cpuUsage(start)
  return (used.user + used.system) / invocations
}

/**
 * `handlers`: { one: { bare, managed }, eleven: { bare, managed } }. Returns CPU µs per
 * invocation of each, and the split.
 */
export const cpuSplit = async (handlers, { contextOf, rounds = 15, invocations = 1000 }) => {
  const least = {}
  const extras = {}
  for (const [kind, pair] of Object.entries(handlers)) {
    least[kind] = { bare: Infinity, managed: Infinity }
    extras[kind] = []
    for (const side of ['bare', 'managed']) await cpuPerInvocation(pair[side], 200, contextOf)
  }
  for (let round = 0; round < rounds; round++) {
    for (const [kind, pair] of Object.entries(handlers)) {
      const order = round % 2 === 0 ? ['bare', 'managed'] : ['managed', 'bare']
      const measured = {}
      for (const side of order) {
        measured[side] = await cpuPerInvocation(pair[side], invocations, contextOf)
        least[kind][side] = Math.min(least[kind][side], measured[side])
      }
      extras[kind].push(measured.managed - measured.bare)
    }
  }
  // The extra of each kind: the median over rounds of the difference within a round, so a slow
  // stretch of the machine weighs on both sides of a difference, and an odd round on neither.
  const extra = Object.fromEntries(Object.entries(extras).map(([kind, list]) => [kind, median(list)]))
  const perStatementUs = (extra.eleven - extra.one) / 10
  // The standard error of each median, carried through the split: on a noisy machine it says
  // which figures the goal can be judged on.
  const se = Object.fromEntries(Object.entries(extras).map(([kind, list]) => [kind, medianError(list)]))
  const perStatementError = Math.hypot(se.one, se.eleven) / 10
  const spread = { perStatementUs: perStatementError, perInvocationUs: Math.hypot(se.one, perStatementError) }
  return { least, extra, perStatementUs, perInvocationUs: extra.one - perStatementUs, spread }
}

const signed = (n) => `${n >= 0 ? '+' : ''}${n.toFixed(1)}`

/** The lines a bench prints: a table, and the GOAL line `pnpm bench` puts in its goal table. */
export const printSplit = (label, statement, split) => {
  const { least, extra, perStatementUs, perInvocationUs, spread } = split
  console.log(
    `\nCPU per invocation (least of alternating rounds; extra: median over rounds of the difference within a round${process.env.MDD_BENCH_PINNED ? '; pinned to one core with its server' : ''}):`,
  )
  console.table(
    Object.entries(least).map(([kind, { bare, managed }]) => ({
      handler: kind === 'one' ? `1 × ${statement}` : `11 × ${statement}`,
      'bare µs': +bare.toFixed(1),
      'managed µs': +managed.toFixed(1),
      'extra µs': +extra[kind].toFixed(1),
      ratio: +((bare + extra[kind]) / bare).toFixed(3),
    })),
  )
  console.log(
    `${label}: ${signed(perStatementUs)} ± ${spread.perStatementUs.toFixed(1)} µs per statement, ${signed(perInvocationUs)} ± ${spread.perInvocationUs.toFixed(1)} µs per invocation (acquire and release; ± the standard error of the medians)`,
  )
  const goal = {
    goal: `${label}: at most 5 µs per statement and 5 µs per invocation over a raw client (issue 10)`,
    met: perStatementUs <= 5 && perInvocationUs <= 5,
    measured: `CPU: ${signed(perStatementUs)} ± ${spread.perStatementUs.toFixed(1)} µs per ${statement}, ${signed(perInvocationUs)} ± ${spread.perInvocationUs.toFixed(1)} µs per invocation (± standard error), from 1 ${statement} (${signed(extra.one)} µs) and 11 (${signed(extra.eleven)} µs); see its section below`,
  }
  console.log(`GOAL ${JSON.stringify(goal)}`)
}
