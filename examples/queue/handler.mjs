// An SQS consumer for the queue demo: each record is one call to a downstream that takes 10 in
// flight. With GUARD_REDIS_URL set, downstream-guard holds the fleet to GUARD_CONCURRENCY
// invocations at once (each calls the downstream one record at a time).
import middy from '@middy/core'
import downstreamGuard from '@middy-downstream/downstream-guard'

const { DOWNSTREAM_URL, GUARD_REDIS_URL, GUARD_NAME, GUARD_CONCURRENCY = '10' } = process.env

const callDownstream = async (record) => {
  const response = await fetch(`${DOWNSTREAM_URL}/work?key=${record.messageId}`, { method: 'POST' })
  await response.text()
  return response.ok
}

/**
 * Each record once, while time remains: records left when less than a second is left are
 * reported as failures rather than cut off by the timeout (which would retry the whole batch,
 * the processed records included).
 */
const consume = async (event, context) => {
  const batchItemFailures = []
  for (const record of event.Records) {
    const ok = context.getRemainingTimeInMillis() > 1000 && (await callDownstream(record).catch(() => false))
    if (!ok) batchItemFailures.push({ itemIdentifier: record.messageId })
  }
  return { batchItemFailures }
}

const consumer = GUARD_REDIS_URL
  ? middy()
      .use(
        downstreamGuard({
          name: GUARD_NAME,
          redis: { url: GUARD_REDIS_URL },
          concurrency: Number(GUARD_CONCURRENCY),
        }),
      )
      .handler(consume)
  : middy().handler(consume)

/** `{ warm: true }` only starts the environment: the demo measures the drain, not cold starts. */
export const handler = (event, context) => (event.warm ? Promise.resolve('warm') : consumer(event, context))
