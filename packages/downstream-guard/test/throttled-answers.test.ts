import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import middy from '@middy/core'
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure'
import { fakeContext, RedisServer } from '@middy-downstream/testing'
import { downstreamGuard, type GuardOptions, ThrottledError } from '../src/index.js'
import { guardedHandler, uniqueName, until } from './helpers.js'

let redis: RedisServer
let release: () => void = () => {}
let holder: Promise<unknown>
let settings: GuardOptions

// One invocation holds the only permit for the whole file; every other one is refused at once.
beforeAll(async () => {
  redis = await RedisServer.start()
  settings = { name: uniqueName('answers'), redis: { url: redis.url }, concurrency: 1, maxWaitMs: 0 }
  const hold = guardedHandler(settings, () => new Promise((resolve) => (release = () => resolve(undefined))))
  holder = hold({}, fakeContext({ timeoutMs: 60_000 }))
  const key = `middy-downstream:guard:{${settings.name}}:leases`
  await until(async () => (await redis.cli('ZCARD', key)) === '1')
})
afterAll(async () => {
  release()
  await holder
  await redis?.dispose()
})

const sqs = {
  Records: [
    { eventSource: 'aws:sqs', messageId: 'a', body: '1' },
    { eventSource: 'aws:sqs', messageId: 'b', body: '2' },
  ],
}
const kinesis = {
  Records: [
    { eventSource: 'aws:kinesis', kinesis: { sequenceNumber: '100' } },
    { eventSource: 'aws:kinesis', kinesis: { sequenceNumber: '101' } },
  ],
}
const dynamodb = {
  Records: [
    { eventSource: 'aws:dynamodb', dynamodb: { SequenceNumber: '7' } },
    { eventSource: 'aws:dynamodb', dynamodb: { SequenceNumber: '8' } },
  ],
}
const context = () => fakeContext({ timeoutMs: 5000 })

describe('the answer of an invocation without a permit', () => {
  it('SQS: every message of the batch is a batch item failure (no record was processed)', async () => {
    expect(await guardedHandler(settings)(sqs, context())).toEqual({
      batchItemFailures: [{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }],
    })
  })

  it('SQS with @middy/sqs-partial-batch-failure: the same answer, whichever is used first', async () => {
    const work = async () => [{ status: 'fulfilled', value: 1 }]
    const guardFirst = middy().use(downstreamGuard(settings)).use(sqsPartialBatchFailure()).handler(work)
    const guardLast = middy().use(sqsPartialBatchFailure()).use(downstreamGuard(settings)).handler(work)
    const expected = { batchItemFailures: [{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }] }
    // A plain Context: the handler never runs, so it never sees a context without the permit.
    expect(await guardFirst(sqs, context() as never)).toEqual(expected)
    expect(await guardLast(sqs, context() as never)).toEqual(expected)
  })

  it('Kinesis and DynamoDB Streams: the first record’s sequence number and every one after it', async () => {
    expect(await guardedHandler(settings)(kinesis, context())).toEqual({
      batchItemFailures: [{ itemIdentifier: '100' }, { itemIdentifier: '101' }],
    })
    expect(await guardedHandler(settings)(dynamodb, context())).toEqual({
      batchItemFailures: [{ itemIdentifier: '7' }, { itemIdentifier: '8' }],
    })
  })

  it('a batch with batchThrottle "throw": the ThrottledError, so the whole batch is retried', async () => {
    await expect(
      guardedHandler({ ...settings, batchThrottle: 'throw' })(sqs, context()),
    ).rejects.toBeInstanceOf(ThrottledError)
  })

  it('API Gateway REST (v1), HTTP API (v2) and function URLs: 503 with Retry-After', async () => {
    const v1 = { httpMethod: 'GET', path: '/', requestContext: { stage: 'prod' } }
    const v2 = { version: '2.0', rawPath: '/', requestContext: { http: { method: 'GET' } } }
    for (const event of [v1, v2]) {
      const response = (await guardedHandler(settings)(event, context())) as {
        statusCode: number
        headers: Record<string, string>
      }
      expect(response.statusCode).toBe(503)
      expect(Number(response.headers['Retry-After'])).toBeGreaterThanOrEqual(1)
    }
  })

  it('HTTP and the rate limit: 429 with the time until the next permit', async () => {
    const rated = { name: uniqueName('rated'), redis: { url: redis.url }, rate: 0.1, maxWaitMs: 0 }
    const handler = guardedHandler(rated)
    const v2 = { version: '2.0', requestContext: { http: { method: 'POST' } } }
    expect(await handler(v2, context())).not.toHaveProperty('statusCode', 429) // the one permit
    const response = (await handler(v2, context())) as { statusCode: number; headers: Record<string, string> }
    expect(response.statusCode).toBe(429)
    // 0.1 per second: the next permit is about 10 s away.
    expect(Number(response.headers['Retry-After'])).toBeGreaterThanOrEqual(9)
  })

  it('any other event: a ThrottledError saying which limit refused it', async () => {
    const error = await guardedHandler(settings)({ any: 'thing' }, context()).catch((e) => e)
    expect(error).toBeInstanceOf(ThrottledError)
    expect(error).toMatchObject({ limit: 'concurrency', downstream: settings.name, kind: 'capacity' })
  })
})
