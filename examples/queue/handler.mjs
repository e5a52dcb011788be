// An SQS consumer for the queue demo: each record is one call to a downstream that takes 10 in
// flight. With GUARD_REDIS_URL set, downstream-guard holds the fleet to GUARD_CONCURRENCY permits:
// GUARD_MODE=batch takes one permit per invocation, before the handler (its batch's calls are made
// one at a time); GUARD_MODE=record takes one around each call (`lazy`, `context.guard.run`).
import middy from '@middy/core'
import downstreamGuard, { ThrottledError } from '@middy-downstream/downstream-guard'

const {
  DOWNSTREAM_URL,
  GUARD_REDIS_URL,
  GUARD_NAME,
  GUARD_CONCURRENCY = '10',
  GUARD_MODE = 'batch',
  BATCH_WORK_MS,
} = process.env

/** A record is not started with less than this left: it is reported rather than cut off by the timeout. */
const recordCutoffMs = 1000

const callDownstream = async (record) => {
  const response = await fetch(`${DOWNSTREAM_URL}/work?key=${record.messageId}`, { method: 'POST' })
  await response.text()
  return response.ok
}

/**
 * Each record once, while time remains. Records left when too little time is left, refused by the
 * downstream, or refused a permit are reported as failures (the rest are deleted), rather than
 * cut off by the timeout, which would retry the whole batch, the processed records included.
 * `processed` lists what this invocation did, for the demo's exactly-once count.
 */
const consume = async (event, context) => {
  const batchItemFailures = []
  const processed = []
  let throttled = 0
  const guarded = context.guard?.run ?? ((call) => call())
  for (const record of event.Records) {
    const ok =
      context.getRemainingTimeInMillis() > recordCutoffMs &&
      // No permit in time (a ThrottledError) or a network error: the message comes back.
      (await guarded(() => callDownstream(record)).catch((error) => {
        if (error instanceof ThrottledError) throttled += 1
        return false
      }))
    if (ok) processed.push(record.messageId)
    else batchItemFailures.push({ itemIdentifier: record.messageId })
  }
  return { batchItemFailures, processed, throttled, waitedMs: context.guard?.waitedMs ?? 0 }
}

const guardOptions = () => {
  const base = { name: GUARD_NAME, redis: { url: GUARD_REDIS_URL }, concurrency: Number(GUARD_CONCURRENCY) }
  return GUARD_MODE === 'record'
    ? // Each wait ends while one call still fits before the cutoff.
      { ...base, lazy: true, marginMs: recordCutoffMs + 500 }
    : // A permit for the whole batch: stop waiting while the batch's calls still fit (BATCH_WORK_MS,
      // generous for a CPU-starved environment), so a late permit is not spent reporting the batch.
      { ...base, marginMs: recordCutoffMs + Number(BATCH_WORK_MS) }
}

const consumer = GUARD_REDIS_URL
  ? middy().use(downstreamGuard(guardOptions())).handler(consume)
  : middy().handler(consume)

/** `{ warm: true }` only starts the environment: the demo measures the drain, not cold starts. */
export const handler = (event, context) => (event.warm ? Promise.resolve('warm') : consumer(event, context))
