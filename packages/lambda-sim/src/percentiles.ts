/** Latency figures of a set of invocations, in ms. All zero when `count` is 0. */
export interface LatencySummary {
  count: number
  p50: number
  p90: number
  p99: number
  max: number
  mean: number
}

/**
 * The nearest-rank percentile of ascending-sorted values: the smallest value such that at least
 * `p` percent of the values are less than or equal to it (rank `ceil(p / 100 × n)`, 1-based).
 * It is always one of the values, never an interpolation. `NaN` for an empty array.
 *
 * @example
 * percentile([15, 20, 35, 40, 50], 40) // 20
 * percentile([15, 20, 35, 40, 50], 50) // 35
 * percentile([15, 20, 35, 40, 50], 100) // 50
 */
export const percentile = (sorted: readonly number[], p: number): number => {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be between 0 and 100, got ${p}`)
  if (sorted.length === 0) return Number.NaN
  // The epsilon keeps float noise (99.9 / 100 × 1000 = 999.0000000000001) from adding a rank.
  const rank = Math.max(1, Math.ceil((p * sorted.length) / 100 - 1e-9))
  return sorted[rank - 1]!
}

const round = (ms: number): number => Math.round(ms * 100) / 100

/**
 * p50, p90, p99, max and mean of unsorted values (rounded to 0.01 ms).
 *
 * @example
 * summarizeLatency([5, 1, 3, 2, 4]) // { count: 5, p50: 3, p90: 5, p99: 5, max: 5, mean: 3 }
 */
export const summarizeLatency = (values: readonly number[]): LatencySummary => {
  if (values.length === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 }
  const sorted = [...values].sort((a, b) => a - b)
  const sum = sorted.reduce((total, value) => total + value, 0)
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1]!),
    mean: round(sum / sorted.length),
  }
}
