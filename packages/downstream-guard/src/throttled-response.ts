import type { ThrottledError } from './errors.js'
import type { BatchThrottle } from './options.js'

/** The partial batch response of SQS, Kinesis and DynamoDB Streams event source mappings. */
export interface BatchResponse {
  batchItemFailures: { itemIdentifier: string }[]
}

/** An API Gateway (REST or HTTP API) or function URL answer. */
export interface HttpResponse {
  statusCode: number
  headers: Record<string, string>
  body: string
}

interface StreamRecord {
  eventSource?: string
  messageId?: string
  kinesis?: { sequenceNumber?: string }
  dynamodb?: { SequenceNumber?: string }
}

/** The record's identifier in a partial batch response, or undefined when it is not a batch record. */
const itemIdentifier = (record: StreamRecord): string | undefined => {
  switch (record.eventSource) {
    case 'aws:sqs':
      return record.messageId
    case 'aws:kinesis':
      return record.kinesis?.sequenceNumber
    case 'aws:dynamodb':
      return record.dynamodb?.SequenceNumber
    default:
      return undefined
  }
}

const batchIdentifiers = (event: unknown): string[] | undefined => {
  const records = (event as { Records?: unknown })?.Records
  if (!Array.isArray(records) || records.length === 0) return undefined
  const ids = records.map((record) => itemIdentifier(record as StreamRecord))
  return ids.every((id): id is string => typeof id === 'string') ? ids : undefined
}

const isHttpEvent = (event: unknown): boolean => {
  const e = event as { httpMethod?: unknown; requestContext?: { http?: unknown } } | undefined
  return typeof e?.httpMethod === 'string' || typeof e?.requestContext?.http === 'object'
}

/**
 * The answer for an invocation that got no permit: the permit is taken before the handler, so no
 * record of a batch was processed and every one is reported (for a stream that is the first
 * record and all after it, in order); an HTTP event gets 429 (rate) or 503 with Retry-After.
 * `undefined`: the event has no such answer and the error is thrown.
 *
 * @example
 * const response = throttledResponse(event, error, 'report') ?? (() => { throw error })()
 */
export const throttledResponse = (
  event: unknown,
  error: ThrottledError,
  batchThrottle: BatchThrottle,
): BatchResponse | HttpResponse | undefined => {
  const ids = batchIdentifiers(event)
  if (ids) {
    return batchThrottle === 'report'
      ? { batchItemFailures: ids.map((itemIdentifier) => ({ itemIdentifier })) }
      : undefined
  }
  if (!isHttpEvent(event)) return undefined
  return {
    statusCode: error.limit === 'rate' ? 429 : 503,
    headers: {
      'Retry-After': String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))),
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({ message: `${error.downstream} is busy, retry later` }),
  }
}
