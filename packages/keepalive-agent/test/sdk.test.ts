import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals'
import middy from '@middy/core'
import { type FakeContextOptions, fakeContext } from '@middy-downstream/testing'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import keepaliveAgent, {
  createHttpResources,
  type HttpResources,
  type HttpResourcesOptions,
  type KeepaliveAgentContext,
} from '../src/index.js'
import { HttpsTestServer } from './support/https-test-server.mjs'

/**
 * A fake Lambda context, typed as the context the middleware promises the handler: Middy types the
 * wrapped handler as taking that context, so a test calling it directly says so.
 */
const lambdaContext = <K extends string = 'http'>(options?: FakeContextOptions) =>
  fakeContext(options) as KeepaliveAgentContext<K>

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

let server: HttpsTestServer
beforeAll(async () => {
  server = await HttpsTestServer.start()
  server.objects.set('bucket/object', Buffer.from('hello'))
})
afterAll(() => server.close())

const made: HttpResources[] = []
const clients: S3Client[] = []
const resourcesFor = (options: HttpResourcesOptions = {}, ca = server.ca) => {
  const resources = createHttpResources({ tls: { ca }, ...options })
  made.push(resources)
  return resources
}

/** An S3 client on the test server; one attempt only, so the SDK's retries hide no reset. */
const s3 = (requestHandler: NodeHttpHandler, endpoint = server.url) => {
  const client = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
    maxAttempts: 1,
    requestHandler,
  })
  clients.push(client)
  return client
}
// A reset as the caller sees it. Under Jest, Node's own errors come from another realm, fail the
// SDK's `instanceof Error` and are wrapped, so only their message survives ("socket hang up" is
// Node's ECONNRESET for a socket closed before the response; "read ECONNRESET" for a TCP RST).
const aReset = /socket hang up|ECONNRESET/

const get = async (client: S3Client, Key = 'object') => {
  const response = await client.send(new GetObjectCommand({ Bucket: 'bucket', Key }))
  return response.Body!.transformToString()
}

// Moves `Date.now()` forward without waiting: what a frozen environment sees when it is thawed.
const realNow = Date.now
let clockOffset = 0
const advanceClock = (ms: number) => {
  clockOffset += ms
  jest.spyOn(Date, 'now').mockImplementation(() => realNow.call(Date) + clockOffset)
}

beforeEach(async () => {
  await server.waitFor((s) => s.open === 0, { what: 'connections of the previous test closed' })
  server.resetCounters()
})
afterEach(async () => {
  clockOffset = 0
  jest.restoreAllMocks()
  for (const client of clients.splice(0)) client.destroy()
  await Promise.all(made.splice(0).map((r) => r.close()))
})

describe('reuse', () => {
  test('20 sequential invocations making an SDK call: one connection, no handshake after the first', async () => {
    // The common pattern: the client at module scope, on the exported request handler.
    const client = s3(resourcesFor().requestHandler)
    const handler = middy()
      .use(keepaliveAgent({ tls: { ca: server.ca } }))
      .handler(async () => get(client))
    const handshakesAfter: number[] = []
    for (let i = 0; i < 20; i++) {
      expect(await handler({}, lambdaContext())).toBe('hello')
      handshakesAfter.push(server.handshakes)
    }
    expect(handshakesAfter).toEqual(Array(20).fill(1))
    expect(server.connections).toBe(1)
  })

  test("a client's destroy() leaves the shared sockets to the other clients", async () => {
    const { requestHandler } = resourcesFor()
    const first = s3(requestHandler)
    const second = s3(requestHandler)
    await get(first)
    first.destroy()
    expect(await get(second)).toBe('hello')
    expect(server.connections).toBe(1)
  })
})

describe('fan-out', () => {
  const fanOut = async (client: S3Client, atOnce: number) => {
    const held = server.holdNext(atOnce)
    const all = Promise.all(Array.from({ length: 200 }, () => get(client)))
    await held.reached
    const openWhileHeld = server.open
    held.release()
    expect(await all).toEqual(Array(200).fill('hello'))
    return openWhileHeld
  }

  test('200 concurrent calls with maxSockets 100 open more than 50 sockets at once, and at most 100', async () => {
    const openWhileHeld = await fanOut(s3(resourcesFor({ maxSockets: 100 }).requestHandler), 100)
    expect(openWhileHeld).toBe(100)
    expect(server.peakOpen).toBeGreaterThan(50)
    expect(server.peakOpen).toBeLessThanOrEqual(100)
    expect(server.connections).toBeLessThanOrEqual(100)
  })

  test("the SDK's default handler queues the same fan-out behind 50 sockets", async () => {
    const openWhileHeld = await fanOut(s3(new NodeHttpHandler({ httpsAgent: { ca: server.ca } })), 50)
    expect(openWhileHeld).toBe(50)
    expect(server.peakOpen).toBe(50)
  })
})

describe('a reset socket', () => {
  const putObject = (client: S3Client) =>
    client.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'put', Body: 'data' }))
  const deleteObjects = (client: S3Client) =>
    client.send(new DeleteObjectsCommand({ Bucket: 'bucket', Delete: { Objects: [{ Key: 'object' }] } }))

  // The server (or a NAT) forgets the idle connection without a word, as during a freeze: the
  // client cannot see it before it sends. (A connection closed with a FIN is not used for this:
  // whether the client reads the FIN before its next request depends on the Node version's
  // scheduling; Node 24 reads it first and never reuses the socket.)
  test('a GET or PUT on a reused socket the server had dropped is sent once more on a new socket', async () => {
    const resources = resourcesFor()
    const client = s3(resources.requestHandler)
    await get(client)
    server.expireIdleConnections()
    expect(await get(client)).toBe('hello')
    server.expireIdleConnections()
    await expect(putObject(client)).resolves.toMatchObject({
      $metadata: { httpStatusCode: 200, attempts: 1 },
    })
    expect(server.objects.get('bucket/put')?.toString()).toBe('data')
    expect(resources.stats.retries).toBe(2)
    expect(server.connections).toBe(3)
  })

  test('the retry does not land on another stale socket: those idle as long are dropped first', async () => {
    const resources = resourcesFor()
    const client = s3(resources.requestHandler)
    const held = server.holdNext(3)
    const three = Promise.all([get(client), get(client), get(client)])
    await held.reached
    held.release()
    await three // three idle sockets now
    // Dropped silently: the client cannot tell until it sends, and every send on one is reset.
    server.expireIdleConnections()
    expect(await get(client)).toBe('hello')
    expect(resources.stats).toMatchObject({ retries: 1, idleSocketsDropped: 2 })
    expect(server.connections).toBe(4)
  })

  test('a POST is not sent again: it may have been executed', async () => {
    const resources = resourcesFor()
    const client = s3(resources.requestHandler)
    await get(client)
    server.expireIdleConnections()
    await expect(deleteObjects(client)).rejects.toThrow(aReset)
    expect(resources.stats.retries).toBe(0)
  })

  test('with retryOnReset false the reset reaches the caller', async () => {
    const resources = resourcesFor({ retryOnReset: false })
    const client = s3(resources.requestHandler)
    await get(client)
    server.expireIdleConnections()
    await expect(get(client)).rejects.toThrow(aReset)
  })

  test('a reset of a new connection is left to the SDK retry strategy', async () => {
    const resources = resourcesFor()
    server.resetNext(1)
    await expect(get(s3(resources.requestHandler))).rejects.toThrow(aReset)
    expect(resources.stats.retries).toBe(0)
  })
})

describe('thaw hygiene', () => {
  const invokeTwice = async (options: HttpResourcesOptions, gapMs: number) => {
    const resources = resourcesFor(options)
    const client = s3(resources.requestHandler)
    const handler = middy()
      .use(keepaliveAgent({ tls: { ca: server.ca }, ...options }))
      .handler(async () => get(client))
    await handler({}, lambdaContext())
    advanceClock(gapMs)
    await handler({}, lambdaContext())
    return resources
  }

  test('after a gap longer than thawThresholdMs the idle socket is dropped before the handler runs', async () => {
    const resources = await invokeTwice({ thawThresholdMs: 4000 }, 4001)
    expect(resources.stats).toMatchObject({ thaws: 1, idleSocketsDropped: 1, retries: 0 })
    expect(server.connections).toBe(2)
  })

  test('after a shorter gap it is reused', async () => {
    const resources = await invokeTwice({ thawThresholdMs: 4000 }, 2000)
    expect(resources.stats).toMatchObject({ thaws: 0, idleSocketsDropped: 0 })
    expect(server.connections).toBe(1)
  })

  test('an idle socket whose timeout passed while timers could not run is not reused', async () => {
    // No middleware here: the agent itself checks, for clients used outside Middy.
    const resources = resourcesFor({ freeSocketTimeoutMs: 1000 })
    const client = s3(resources.requestHandler)
    await get(client)
    advanceClock(1001)
    expect(await get(client)).toBe('hello')
    expect(resources.stats.expiredSocketsPruned).toBe(1)
    expect(server.connections).toBe(2)
  })

  test('a shorter Keep-Alive timeout announced by the server wins over freeSocketTimeoutMs', async () => {
    const announcing = await HttpsTestServer.start({ keepAliveHintSeconds: 3 })
    try {
      announcing.objects.set('bucket/object', Buffer.from('hello'))
      const resources = resourcesFor({ freeSocketTimeoutMs: 60_000 }, announcing.ca)
      const client = s3(resources.requestHandler, announcing.url)
      await get(client)
      advanceClock(2001) // Node keeps 1 s below the announced 3 s
      await get(client)
      expect(resources.stats.expiredSocketsPruned).toBe(1)
      expect(announcing.connections).toBe(2)
    } finally {
      await announcing.close()
    }
  })
})

describe('timeouts', () => {
  test('the request timeout throws a TimeoutError instead of only logging', async () => {
    const resources = resourcesFor({ requestTimeoutMs: 300 })
    await expect(get(s3(resources.requestHandler), 'stall-forever')).rejects.toMatchObject({
      name: 'TimeoutError',
    })
    expect(resources.requestHandler.httpHandlerConfigs()).toMatchObject({
      connectionTimeout: 3000,
      requestTimeout: 300,
      throwOnRequestTimeout: true,
    })
  })
})
