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

const counts = (byCode: Record<string, number>): string =>
  Object.entries(byCode)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([code, count]) => `${code} ${count}`)
    .join(', ')

/**
 * Formats run results as plain text: one table row per phase and a total, failures by code,
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
    `failures by code: ${results.failures === 0 ? 'none' : counts(results.failuresByCode)}`,
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
