// "Resume from zero": the Data API endpoint acts out an Aurora Serverless v2 cluster paused at
// zero capacity (every call answers DatabaseResumingException until it has resumed) while a
// burst arrives, for two functions on the same cluster: one whose timeout outlasts the resume,
// one whose timeout does not. The first should succeed once the cluster is back; the second
// should fail fast, with an error that says why, before Lambda's timeout would end it.
import { Fleet } from '@middy-downstream/lambda-sim'
import { startDataApiStorm } from './databases/data-api.mjs'
import { handlerModule } from './storm.mjs'

/** Both fleets reach the burst; the first one there pauses the endpoint for both. */
const barrier = (parties, action) => {
  let waiting = 0
  let release
  const all = new Promise((resolve) => {
    release = resolve
  })
  return async () => {
    waiting += 1
    if (waiting === parties) {
      action()
      release()
    }
    await all
  }
}

const summarizeGroup = (name, timeoutMs, records) => {
  const ok = records.filter((r) => r.ok)
  const failed = records.filter((r) => !r.ok)
  return {
    name,
    timeoutMs,
    invocations: records.length,
    succeeded: ok.length,
    failed: failed.length,
    timedOut: failed.filter((r) => r.timedOut).length,
    // Succeeded after the resume: how long after the burst began they returned.
    slowestSuccessMs: Math.max(0, ...ok.map((r) => r.latencyMs)),
    slowestFailureMs: Math.max(0, ...failed.map((r) => r.latencyMs)),
    codes: [...new Set(failed.map((r) => r.code))],
    message: failed[0]?.error?.message,
  }
}

/**
 * Runs the scenario: `concurrency` warm environments per function (the warm-up's cold starts
 * are left out), then the endpoint paused for `pauseMs` while each function receives a burst of
 * `invocations`.
 */
export const runResume = async ({
  pauseMs = 6000,
  shortTimeoutMs = 3000,
  longTimeoutMs = 10_000,
  concurrency = 10,
  invocations = 20,
} = {}) => {
  const database = await startDataApiStorm({ maxConnections: 20 })
  try {
    const pause = barrier(2, () => database.endpoint.pause(pauseMs))
    const run = async (name, timeoutMs) => {
      const records = []
      const fleet = new Fleet({
        module: handlerModule('db-connection-data-api'),
        timeoutMs,
        maxEnvironments: concurrency,
        functionName: name,
        env: { ...database.env, AWS_LAMBDA_FUNCTION_NAME: name },
        output: 'ignore',
        beforePhase: async ({ index }) => {
          if (index === 1) await pause()
        },
        onInvocation: (record) => {
          if (record.phase === 1) records.push(record)
        },
      })
      await fleet.run([
        { name: 'warm up', concurrency, invocations: concurrency },
        { name: 'burst while paused', concurrency, invocations },
      ])
      return summarizeGroup(name, timeoutMs, records)
    }
    const groups = await Promise.all([
      run('long-timeout', longTimeoutMs),
      run('short-timeout', shortTimeoutMs),
    ])
    return { pauseMs, groups, calls: { ...database.endpoint.calls } }
  } finally {
    await database.dispose()
  }
}

/** The scenario's result as lines of text. */
export const formatResume = ({ pauseMs, groups }) =>
  [
    `Endpoint paused ${pauseMs / 1000} s (DatabaseResumingException) while each function receives its burst:`,
    ...groups.map(
      (g) =>
        `  timeout ${String(g.timeoutMs / 1000).padStart(2)} s: ${g.succeeded} of ${g.invocations} succeeded` +
        (g.succeeded ? ` (the last after ${Math.round(g.slowestSuccessMs)} ms)` : '') +
        `, ${g.failed} failed` +
        (g.failed
          ? ` (${g.timedOut} by Lambda's timeout, the slowest at ${Math.round(g.slowestFailureMs)} ms; ${g.codes.join(', ')})`
          : ''),
    ),
    ...groups.filter((g) => g.message).map((g) => `  error (timeout ${g.timeoutMs / 1000} s): ${g.message}`),
  ].join('\n')
