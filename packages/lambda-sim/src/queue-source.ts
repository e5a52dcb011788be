import { setTimeout as delay } from 'node:timers/promises'
import type { InvocationRecord } from './results.js'
import type { QueuedMessage, SqsQueue } from './sqs-queue.js'

export interface QueueSourceOptions {
  /**
   * Messages per invocation.
   * @default 10
   */
  batchSize?: number
  /**
   * The event source mapping's maximum concurrency: at most this many invocations at once.
   * @default one poller per environment the function may have (`pollers`)
   */
  maximumConcurrency?: number
  /**
   * Concurrent pollers without a maximum concurrency (Lambda scales them up to its limits).
   * @default 60
   */
  pollers?: number
  /**
   * `ReportBatchItemFailures` on the mapping: a `batchItemFailures` answer deletes the others.
   * @default true
   */
  reportBatchItemFailures?: boolean
  /**
   * How often an idle poller looks again, ms (SQS long polling answers when messages arrive).
   * @default 25
   */
  pollIntervalMs?: number
}

/** What the event source mapping did. */
export interface QueueSourceResult {
  invocations: number
  /** Invocations that failed as a whole (an error or a timeout): their batch is retried. */
  failedInvocations: number
  /** Messages reported in `batchItemFailures`. */
  reportedFailures: number
  drainMs: number
}

/** The SQS event Lambda sends for a batch. */
export const sqsEvent = (batch: QueuedMessage[]) => ({
  Records: batch.map((message) => ({
    messageId: message.messageId,
    receiptHandle: message.messageId,
    body: message.body,
    attributes: { ApproximateReceiveCount: String(message.receiveCount) },
    messageAttributes: {},
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:lambda-sim',
    awsRegion: 'us-east-1',
  })),
})

/** The messages of a batch the invocation processed: all, all but the reported ones, or none. */
const processedIds = (batch: QueuedMessage[], record: InvocationRecord, report: boolean): string[] => {
  if (!record.ok) return []
  const failures = (record.value as { batchItemFailures?: { itemIdentifier?: string }[] } | undefined)
    ?.batchItemFailures
  if (!report || !Array.isArray(failures)) return batch.map((message) => message.messageId)
  const failed = new Set(failures.map((failure) => failure.itemIdentifier))
  return batch.map((message) => message.messageId).filter((id) => !failed.has(id))
}

/**
 * An SQS event source mapping: pollers receive batches, invoke the function (a `Fleet`'s
 * `invoke`), delete what succeeded and leave the rest to reappear after the visibility timeout,
 * until the queue is empty (every message deleted or dead-lettered).
 *
 * @example
 * const queue = new SqsQueue({ visibilityTimeoutMs: 4000, maxReceiveCount: 3 })
 * queue.send(bodies)
 * const result = await drainQueue(queue, (event) => fleet.invoke(event), { batchSize: 10, maximumConcurrency: 10 })
 */
export const drainQueue = async (
  queue: SqsQueue,
  invoke: (event: unknown) => Promise<InvocationRecord>,
  options: QueueSourceOptions = {},
): Promise<QueueSourceResult> => {
  const { batchSize = 10, pollers = 60, reportBatchItemFailures = true, pollIntervalMs = 25 } = options
  const concurrency = options.maximumConcurrency ?? pollers
  const result: QueueSourceResult = { invocations: 0, failedInvocations: 0, reportedFailures: 0, drainMs: 0 }
  const started = Date.now()
  const poller = async () => {
    while (queue.size > 0) {
      const batch = queue.receive(batchSize)
      if (batch.length === 0) {
        await delay(pollIntervalMs)
        continue
      }
      const record = await invoke(sqsEvent(batch))
      result.invocations += 1
      if (!record.ok) result.failedInvocations += 1
      const done = processedIds(batch, record, reportBatchItemFailures)
      if (record.ok) result.reportedFailures += batch.length - done.length
      queue.delete(done)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, poller))
  result.drainMs = Date.now() - started
  return result
}
