// One run of the queue scenario: a burst of messages on an SQS-like queue, drained by a fleet of
// simulated environments through an event source mapping, into a downstream that takes a limited
// number of requests in flight.
import { fileURLToPath } from 'node:url'
import { DownstreamStandIn, drainQueue, Fleet, SqsQueue } from '@middy-downstream/lambda-sim'

const handlerPath = fileURLToPath(new URL('./handler.mjs', import.meta.url))

/**
 * How often each message was processed, as the handlers reported it (`processed` in their answers),
 * how many records got no permit in time, and the longest wait for one. A batch the guard refused
 * before the handler is answered by the guard alone: every record reported, no `processed`.
 */
const handlerCounts = (started) => {
  const counts = new Map()
  const tally = { counts, throttledRecords: 0, maxWaitMs: 0, firstThrottleAtMs: undefined }
  return {
    tally,
    record: (invocation) => {
      const answer = invocation.value
      const refusedBefore = answer && !('processed' in answer) && answer.batchItemFailures?.length > 0
      const throttled = refusedBefore ? answer.batchItemFailures.length : (answer?.throttled ?? 0)
      tally.throttledRecords += throttled
      if (throttled > 0) tally.firstThrottleAtMs ??= Date.now() - started
      tally.maxWaitMs = Math.max(tally.maxWaitMs, answer?.waitedMs ?? 0)
      for (const id of answer?.processed ?? []) counts.set(id, (counts.get(id) ?? 0) + 1)
      return invocation
    },
  }
}

/**
 * Runs one scenario and returns its row: `guardRedisUrl` turns the guard on (`guardMode`: `batch`,
 * a permit per invocation; `record`, a permit per downstream call), `maximumConcurrency` sets the
 * event source mapping's.
 */
export const runScenario = async ({
  name,
  messages = 2000,
  environments = 60,
  downstreamLimit = 10,
  guardRedisUrl,
  guardMode = 'batch',
  maximumConcurrency,
  timeoutMs = 10_000,
  // What a batch's calls may take in a CPU-starved environment (10 × 20 ms of work, ten times
  // over): a permit per batch stops waiting while this much (and the handler's cutoff) is left.
  // The rest is the wait budget: with 60 pollers and 10 permits a batch waits about 5 batch times.
  batchWorkMs = Math.round(timeoutMs * 0.2),
  // SQS advises 6× the function timeout; less keeps the demo short, and no invocation outlives it.
  visibilityTimeoutMs = 15_000,
  // What AWS advises for a queue behind Lambda: a throttled batch comes back and counts a receive.
  maxReceiveCount = 5,
  onProgress = () => {},
}) => {
  const downstream = await DownstreamStandIn.start({ maxInFlight: downstreamLimit, workMs: 20 })
  const queue = new SqsQueue({ visibilityTimeoutMs, maxReceiveCount })
  const fleet = new Fleet({
    module: handlerPath,
    timeoutMs,
    maxEnvironments: environments,
    output: 'ignore',
    env: {
      DOWNSTREAM_URL: downstream.url,
      ...(guardRedisUrl
        ? {
            GUARD_REDIS_URL: guardRedisUrl,
            GUARD_NAME: `demo-${Date.now()}`,
            GUARD_CONCURRENCY: String(downstreamLimit),
            GUARD_MODE: guardMode,
            BATCH_WORK_MS: String(batchWorkMs),
          }
        : {}),
    },
  })
  try {
    onProgress(`${name}: starting ${environments} environments`)
    await Promise.all(Array.from({ length: environments }, () => fleet.invoke({ warm: true })))
    queue.send(Array.from({ length: messages }, (_, i) => `message ${i}`))
    const progress = setInterval(
      () =>
        onProgress(
          `${name}: ${messages - queue.size}/${messages} done, ${queue.counters.deadLettered} dead-lettered`,
        ),
      1000,
    )
    const handled = handlerCounts(Date.now())
    const result = await drainQueue(queue, (event) => fleet.invoke(event).then(handled.record), {
      batchSize: 10,
      pollers: environments,
      ...(maximumConcurrency ? { maximumConcurrency } : {}),
    }).finally(() => clearInterval(progress))
    const counts = [...handled.tally.counts.values()]
    return {
      scenario: name,
      invocations: result.invocations,
      failedInvocations: result.failedInvocations,
      overloads: downstream.counters.overloads,
      redelivered: queue.counters.redelivered,
      deadLettered: queue.counters.deadLettered,
      processedOnce: counts.filter((n) => n === 1).length,
      processedTwiceOrMore: counts.filter((n) => n > 1).length,
      // The downstream's own count: it also sees calls whose invocation then failed as a whole.
      servedTwiceOrMore: [...downstream.counters.servedByKey.values()].filter((n) => n > 1).length,
      throttledRecords: handled.tally.throttledRecords,
      firstThrottleAtMs: handled.tally.firstThrottleAtMs,
      maxWaitMs: handled.tally.maxWaitMs,
      peakInFlight: downstream.counters.peakInFlight,
      drainSeconds: +(result.drainMs / 1000).toFixed(1),
    }
  } finally {
    await fleet.close()
    await downstream.close()
  }
}

const columns = [
  ['scenario', 'scenario'],
  ['invocations', 'invocations'],
  ['failedInvocations', 'failed'],
  ['overloads', 'overloads (503)'],
  ['redelivered', 'redelivered'],
  ['deadLettered', 'dead-lettered'],
  ['processedOnce', 'processed once'],
  ['processedTwiceOrMore', 'twice or more'],
  ['servedTwiceOrMore', 'served twice+'],
  ['throttledRecords', 'no permit'],
  ['maxWaitMs', 'longest wait ms'],
  ['peakInFlight', 'peak in flight'],
  ['drainSeconds', 'drain s'],
]

/** The rows as a text table. */
export const formatRows = (rows) => {
  const cells = [
    columns.map(([, title]) => title),
    ...rows.map((row) => columns.map(([key]) => String(row[key]))),
  ]
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i].length)))
  return cells
    .map((line) =>
      line.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '),
    )
    .join('\n')
}
