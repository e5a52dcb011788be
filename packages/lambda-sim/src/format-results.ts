import type { LatencySummary } from './percentiles.js'
import type { FleetResults, PhaseResult } from './results.js'

const columns = [
  'phase',
  'invocations',
  'ok',
  'failed',
  'p50 ms',
  'p90 ms',
  'p99 ms',
  'max ms',
  'cold',
  'throttled',
  'started',
  'abandoned',
] as const

const ms = (value: number): string => (value >= 100 ? value.toFixed(0) : value.toFixed(1))

const latency = (summary: LatencySummary): string[] =>
  summary.count === 0 ? ['-', '-', '-', '-'] : [summary.p50, summary.p90, summary.p99, summary.max].map(ms)

const row = (label: string, figures: Omit<PhaseResult, 'index' | 'description' | 'durationMs'>): string[] => [
  label,
  ...(figures.invocations === 0
    ? ['-', '-', '-']
    : [figures.invocations, figures.successes, figures.failures].map(String)),
  ...latency(figures.latencyMs),
  ...[figures.coldStarts, figures.throttles, figures.environmentsStarted, figures.environmentsAbandoned].map(
    String,
  ),
]

/** Aligns cells: the first column to the left, the others (figures) to the right. */
const table = (rows: string[][]): string => {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((cells) => cells[column]!.length)))
  return rows
    .map((cells) =>
      cells
        .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

/** A message on one line, cut short: a stack or a multi-line driver message would break the table. */
const oneLine = (message: string): string => {
  const first = message.split('\n', 1)[0]!.trim()
  return first.length > 160 ? `${first.slice(0, 159)}…` : first
}

/** One line per code, most frequent first, with the first message counted under it. */
const failureLines = (results: FleetResults): string[] => {
  if (results.failures === 0) return ['failures by code: none']
  const rows = Object.entries(results.failuresByCode)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([code, count]) => [code, String(count), oneLine(results.errorMessages[code] ?? '')])
  const codeWidth = Math.max(...rows.map(([code]) => code!.length))
  const countWidth = Math.max(...rows.map(([, count]) => count!.length))
  return [
    'failures by code:',
    ...rows.map(([code, count, message]) =>
      `  ${code!.padEnd(codeWidth)}  ${count!.padStart(countWidth)}  ${message}`.trimEnd(),
    ),
  ]
}

/**
 * Formats run results as plain text: one table row per phase and a total, failures by code (with
 * the first message of each),
 * environments, and each sampled series' min / max / last.
 *
 * @example
 * console.log(formatResults(await runFleet({ module, profile })))
 * // phase                                   invocations   ok  failed  p50 ms  p90 ms ...
 * // 0 200 invocations at concurrency 40            200  200       0     3.1     9.8 ...
 */
export const formatResults = (results: FleetResults): string => {
  const rows: string[][] = [
    [...columns],
    ...results.phases.map((phase) => row(`${phase.index} ${phase.name ?? phase.description}`, phase)),
    row('total', results),
  ]
  const lines = [
    table(rows),
    '',
    ...failureLines(results),
    `environments: ${results.environmentsStarted} started, ${results.environmentsAbandoned} abandoned, ` +
      `${results.environmentsRecycled} recycled, peak ${results.peakEnvironments} at once`,
    `duration: ${(results.durationMs / 1000).toFixed(1)} s`,
  ]
  const names = [...new Set(results.samples.flatMap((sample) => Object.keys(sample.values)))]
  for (const name of names) {
    const values = results.samples
      .map((sample) => sample.values[name])
      .filter((value): value is number => typeof value === 'number')
    const summary =
      values.length === 0
        ? 'no values'
        : `min ${Math.min(...values)}, max ${Math.max(...values)}, last ${values[values.length - 1]}`
    lines.push(`sampled ${name}: ${summary} (${results.samples.length} samples)`)
  }
  return lines.join('\n')
}
