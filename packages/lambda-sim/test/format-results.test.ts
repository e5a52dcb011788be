import { expect, test } from '@jest/globals'
import { type FleetResults, formatResults, summarizeLatency } from '../src/index.js'

const phase = {
  failuresByCode: {},
  errorMessages: {},
  throttles: 0,
  environmentsAbandoned: 0,
  environmentsRecycled: 0,
  durationMs: 10,
}

const results: FleetResults = {
  invocations: 6,
  successes: 3,
  failures: 3,
  failuresByCode: { ECONNRESET: 2, TimeoutError: 1 },
  errorMessages: {
    ECONNRESET: 'read ECONNRESET\n    at TCP.onStreamRead',
    TimeoutError: 'Task timed out after 3000 ms',
  },
  latencyMs: summarizeLatency([1, 2, 3, 4, 5, 250]),
  coldStarts: 2,
  throttles: 1,
  environmentsStarted: 2,
  environmentsAbandoned: 1,
  environmentsRecycled: 0,
  peakEnvironments: 2,
  durationMs: 1234,
  phases: [
    {
      ...phase,
      index: 0,
      name: 'burst',
      description: '6 invocations at concurrency 2',
      invocations: 6,
      successes: 3,
      failures: 3,
      failuresByCode: { ECONNRESET: 2, TimeoutError: 1 },
      latencyMs: summarizeLatency([1, 2, 3, 4, 5, 250]),
      coldStarts: 2,
      throttles: 1,
      environmentsStarted: 2,
    },
    {
      ...phase,
      index: 1,
      description: 'reap 50%',
      invocations: 0,
      successes: 0,
      failures: 0,
      latencyMs: summarizeLatency([]),
      coldStarts: 0,
      environmentsStarted: 0,
      environmentsAbandoned: 1,
    },
  ],
  samples: [
    { t: 0, values: { connections: 0 } },
    { t: 250, values: { connections: 5 } },
    { t: 500, values: { connections: null } },
    { t: 750, values: { connections: 3 } },
  ],
}

test('formatResults prints a row per phase, a total, failures by code and sampled series', () => {
  const text = formatResults(results)
  const lines = text.split('\n')
  expect(lines[0]).toMatch(/^phase\s+invocations\s+ok\s+failed\s+p50 ms\s+p90 ms\s+p99 ms\s+max ms\s+cold/)
  expect(lines[1]).toMatch(/^0 burst\s+6\s+3\s+3\s+3\.0\s+250\s+250\s+250\s+2\s+1\s+2\s+0$/)
  expect(lines[2]).toMatch(/^1 reap 50%\s+-\s+-\s+-\s+-\s+-\s+-\s+-\s+0\s+0\s+0\s+1$/)
  expect(lines[3]).toMatch(/^total\s+6\s+3\s+3\s+3\.0\s+250\s+250\s+250\s+2\s+1\s+2\s+1$/)
  // Columns line up: every table row is as wide as the header.
  expect(new Set(lines.slice(0, 4).map((line) => line.length)).size).toBe(1)
  // Each code with its count and the first message counted under it, on one line.
  expect(text).toContain(
    'failures by code:\n  ECONNRESET    2  read ECONNRESET\n  TimeoutError  1  Task timed out after 3000 ms\n',
  )
  expect(text).toContain('environments: 2 started, 1 abandoned, 0 recycled, peak 2 at once')
  expect(text).toContain('sampled connections: min 0, max 5, last 3 (4 samples)')
})

test('formatResults says when nothing failed', () => {
  expect(
    formatResults({ ...results, failures: 0, failuresByCode: {}, errorMessages: {}, samples: [] }),
  ).toContain('failures by code: none')
})
