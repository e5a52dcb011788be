import type { Readable } from 'node:stream'
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals'
import middy from '@middy/core'
import type { LifecycleEvent } from '@middy-downstream/core'
import { fakeContext } from '@middy-downstream/testing'
import keepaliveAgent, {
  createHttpResources,
  type HttpResources,
  type HttpResourcesOptions,
  type KeepaliveAgentContext,
} from '../src/index.js'
import { HttpsTestServer } from './support/https-test-server.mjs'

// A GetObject whose Body is never read keeps its socket out of the pool for good (Node returns a
// keep-alive socket only once the body was read to the end): a few invocations exhaust maxSockets.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

let server: HttpsTestServer
/** Sends the object's checksum: the SDK then reads each body through a verifying stream of its own. */
let checksummed: HttpsTestServer
beforeAll(async () => {
  ;[server, checksummed] = await Promise.all([
    HttpsTestServer.start(),
    HttpsTestServer.start({ checksums: true }),
  ])
  for (const s of [server, checksummed]) s.objects.set('bucket/object', Buffer.from('hello'))
})
afterAll(() => Promise.all([server.close(), checksummed.close()]))

const made: HttpResources[] = []
const clients: S3Client[] = []
const events: LifecycleEvent[] = []
const onEvent = (event: LifecycleEvent) => {
  events.push(event)
}

/** Small pools and a short connection timeout, so an exhausted pool fails fast. */
const options = (more: HttpResourcesOptions = {}, target = server): HttpResourcesOptions => ({
  tls: { ca: target.ca },
  maxSockets: 4,
  connectionTimeoutMs: 300,
  onEvent,
  ...more,
})

const s3For = (resources: HttpResources, target = server) => {
  made.push(resources)
  const client = new S3Client({
    endpoint: target.url,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
    maxAttempts: 1,
    requestHandler: resources.requestHandler,
  })
  clients.push(client)
  return client
}

/** `count` GetObject calls whose bodies are never read. */
const getUnread = (client: S3Client, count: number) =>
  Promise.all(
    Array.from({ length: count }, () =>
      client.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'object' })),
    ),
  )

const isDestroyed = (body: unknown) => (body as Readable).destroyed

const lambdaContext = (awsRequestId: string) => fakeContext({ awsRequestId }) as KeepaliveAgentContext

beforeEach(async () => {
  for (const s of [server, checksummed]) {
    await s.waitFor((t) => t.open === 0, { what: 'connections of the previous test closed' })
    s.resetCounters()
  }
  events.length = 0
})
afterEach(async () => {
  jest.restoreAllMocks()
  for (const client of clients.splice(0)) client.destroy()
  await Promise.all(made.splice(0).map((r) => r.close()))
})

describe('sockets held by unread bodies', () => {
  test('are destroyed at release and reported, so the next invocations get sockets', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const resources = createHttpResources(options())
    const s3 = s3For(resources)
    const handler = middy()
      .use(keepaliveAgent(options()))
      .handler(async () => (await getUnread(s3, 4)).length)

    // Before: the second invocation waited for one of the 4 held sockets and timed out.
    for (const id of ['first', 'second', 'third']) expect(await handler({}, lambdaContext(id))).toBe(4)

    expect(server.connections).toBe(12)
    expect(resources.stats.unreadBodiesDestroyed).toBe(12)
    expect(
      events.map(({ type, reason, count, awsRequestId }) => ({ type, reason, count, awsRequestId })),
    ).toEqual(
      ['first', 'second', 'third'].map((awsRequestId) => ({
        type: 'close',
        reason: 'unread-body',
        count: 4,
        awsRequestId,
      })),
    )
    expect(resources.counters.closes).toBe(12)
    const warnings = warn.mock.calls
      .map(([message]) => String(message))
      .filter((m) => m.includes('never read'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/Body\.destroy\(\)/)
    await server.waitFor((s) => s.open === 0, { what: 'the destroyed sockets closed' })
  })

  test('a body that was read keeps its socket for the next invocation', async () => {
    const resources = createHttpResources(options())
    const s3 = s3For(resources)
    const handler = middy()
      .use(keepaliveAgent(options()))
      .handler(async () => {
        const [object] = await getUnread(s3, 1)
        return object!.Body!.transformToString()
      })
    expect(await handler({}, lambdaContext('a'))).toBe('hello')
    expect(await handler({}, lambdaContext('b'))).toBe('hello')
    expect(server.connections).toBe(1)
    expect(events).toEqual([])
  })

  test("a body the handler returns (a streamed response) is left to Middy's caller", async () => {
    const s3 = s3For(createHttpResources(options()))
    const handler = middy()
      .use(keepaliveAgent(options()))
      .handler(async () => (await getUnread(s3, 1))[0]!.Body!)
    const body = await handler({}, lambdaContext('stream'))
    expect(await body.transformToString()).toBe('hello')
    expect(events).toEqual([])
  })

  test('an early response (Middy skips after) is cleaned up when the next invocation begins', async () => {
    const resources = createHttpResources(options())
    const s3 = s3For(resources)
    let respondEarly = true
    const handler = middy()
      .use(keepaliveAgent(options()))
      .use({
        before: async () => {
          if (!respondEarly) return undefined
          await getUnread(s3, 4)
          return 'early'
        },
      })
      .handler(async () => (await getUnread(s3, 4)).length)
    expect(await handler({}, lambdaContext('early'))).toBe('early')
    respondEarly = false
    expect(await handler({}, lambdaContext('next'))).toBe(4)
    expect(resources.stats.unreadBodiesDestroyed).toBe(8)
  })

  test('with invocations at once (Managed Instances), only bodies no running invocation can read are destroyed', async () => {
    const resources = createHttpResources(options())
    const s3 = s3For(resources)
    const first = { awsRequestId: 'first' }
    const second = { awsRequestId: 'second' }
    resources.beginInvocation(first)
    const [held] = await getUnread(s3, 1)
    resources.beginInvocation(second)
    const [late] = await getUnread(s3, 1)
    resources.endInvocation(first)
    // Only the first invocation was running when `held` went out; the second may still read `late`.
    expect(resources.stats.unreadBodiesDestroyed).toBe(1)
    expect(isDestroyed(held!.Body)).toBe(true)
    expect(isDestroyed(late!.Body)).toBe(false)
    resources.endInvocation(second)
    expect(resources.stats.unreadBodiesDestroyed).toBe(2)
    expect(events).toMatchObject([
      { type: 'close', reason: 'unread-body', count: 1, awsRequestId: 'first' },
      { type: 'close', reason: 'unread-body', count: 1, awsRequestId: 'second' },
    ])
    expect(isDestroyed(late!.Body)).toBe(true)
  })

  test('a body read by a running invocation is not touched when another one ends', async () => {
    const resources = createHttpResources(options())
    const s3 = s3For(resources)
    const first = { awsRequestId: 'first' }
    const second = { awsRequestId: 'second' }
    resources.beginInvocation(first)
    resources.beginInvocation(second)
    const [shared] = await getUnread(s3, 1)
    resources.endInvocation(first)
    expect(await shared!.Body!.transformToString()).toBe('hello')
    resources.endInvocation(second)
    expect(resources.stats.unreadBodiesDestroyed).toBe(0)
  })
})

describe('when the SDK verifies a checksum (its own stream reads the body)', () => {
  test('unread bodies are destroyed all the same', async () => {
    const resources = createHttpResources(options({}, checksummed))
    const s3 = s3For(resources, checksummed)
    let wrapped = false
    const handler = middy()
      .use(keepaliveAgent(options({}, checksummed)))
      .handler(async () => {
        const objects = await getUnread(s3, 4)
        wrapped = objects.every(({ Body }) => 'source' in (Body as object))
        return objects.length
      })
    for (const id of ['first', 'second', 'third']) expect(await handler({}, lambdaContext(id))).toBe(4)
    expect(wrapped).toBe(true)
    expect(resources.stats.unreadBodiesDestroyed).toBe(12)
  })

  test('a returned body is left alone, though it is the SDK stream around the socket', async () => {
    const s3 = s3For(createHttpResources(options({}, checksummed)), checksummed)
    const handler = middy()
      .use(keepaliveAgent(options({}, checksummed)))
      .handler(async () => ({ statusCode: 200, body: (await getUnread(s3, 1))[0]!.Body! }))
    const { body } = await handler({}, lambdaContext('stream'))
    expect(await body.transformToString()).toBe('hello')
    expect(events).toEqual([])
  })
})

describe('a request that waits for a free socket', () => {
  test('fails with a message that says it waited for a free socket and names maxSockets', async () => {
    const s3 = s3For(createHttpResources(options({ maxSockets: 2 })))
    await getUnread(s3, 2)
    // Before: "the request socket did not establish a connection with the server within ... 300 ms".
    const waited = getUnread(s3, 1)
    await expect(waited).rejects.toMatchObject({
      name: 'TimeoutError',
      message: expect.stringMatching(
        /waited \d+ ms for a free socket to 127\.0\.0\.1:\d+.*all 2 sockets.*maxSockets/,
      ),
    })
    expect(server.connections).toBe(2)
  })
})
