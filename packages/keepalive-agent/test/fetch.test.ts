import https from 'node:https'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals'
import middy from '@middy/core'
import { type FakeContextOptions, fakeContext } from '@middy-downstream/testing'
import { request, fetch as undiciFetch } from 'undici'
import keepaliveAgent, {
  createHttpResources,
  type HttpResources,
  type HttpResourcesOptions,
  type KeepaliveAgentContext,
  uninstallGlobal,
} from '../src/index.js'
import { HttpsTestServer } from './support/https-test-server.mjs'

/**
 * A fake Lambda context, typed as the context the middleware promises the handler: Middy types the
 * wrapped handler as taking that context, so a test calling it directly says so.
 */
const lambdaContext = <K extends string = 'http'>(options?: FakeContextOptions) =>
  fakeContext(options) as KeepaliveAgentContext<K>

let server: HttpsTestServer
beforeAll(async () => {
  server = await HttpsTestServer.start()
})
afterAll(() => server.close())

const made: HttpResources[] = []
const resourcesFor = (options: HttpResourcesOptions = {}) => {
  const resources = createHttpResources({ tls: { ca: server.ca }, ...options })
  made.push(resources)
  return resources
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
  uninstallGlobal()
  await Promise.all(made.splice(0).map((r) => r.close()))
})

const getJson = async (init: RequestInit, path = '/json') => {
  const response = await fetch(`${server.url}${path}`, init)
  return (await response.json()) as { ok: boolean; method: string }
}

/**
 * The boundary between two invocations. Lambda delivers each invocation through I/O, so at least
 * one turn of the event loop separates them; undici marks a connection free again only in a later
 * turn than its last response, so back-to-back requests in one turn would open a second one.
 */
const nextInvocation = () => new Promise((resolve) => setImmediate(resolve))

/** What a failed fetch reports: the code of its cause (fetch itself throws a TypeError). */
const causeCode = (error: unknown) => (error as { cause?: { code?: string } }).cause?.code

describe('fetch through the dispatcher', () => {
  test('reuses one connection across invocations', async () => {
    const handler = middy()
      .use(keepaliveAgent({ tls: { ca: server.ca } }))
      .handler(async (_event: unknown, context) => getJson({ dispatcher: context.http.dispatcher }))
    resourcesFor()
    for (let i = 0; i < 10; i++) {
      expect(await handler({}, lambdaContext())).toEqual({ ok: true, method: 'GET' })
      await nextInvocation()
    }
    expect(server.connections).toBe(1)
    expect(server.handshakes).toBe(1)
  })

  test('a fan-out of 200 with maxSockets 100 opens more than 50 connections at once, at most 100', async () => {
    const { dispatcher } = resourcesFor({ maxSockets: 100 })
    const held = server.holdNext(100)
    const all = Promise.all(Array.from({ length: 200 }, () => getJson({ dispatcher })))
    await held.reached
    expect(server.open).toBe(100)
    held.release()
    expect(await all).toHaveLength(200)
    expect(server.peakOpen).toBeGreaterThan(50)
    expect(server.peakOpen).toBeLessThanOrEqual(100)
    expect(server.connections).toBeLessThanOrEqual(100)
  })

  test('undici.request works through it too', async () => {
    const { dispatcher } = resourcesFor()
    for (let i = 0; i < 3; i++) {
      const response = await request(`${server.url}/json`, { dispatcher })
      expect(await response.body.json()).toEqual({ ok: true, method: 'GET' })
      await nextInvocation()
    }
    expect(server.connections).toBe(1)
  })
})

describe('a reset connection', () => {
  test('is retried once for GET, and for a PUT whose body is a string', async () => {
    const resources = resourcesFor()
    server.resetNext(1)
    expect(await getJson({ dispatcher: resources.dispatcher })).toEqual({ ok: true, method: 'GET' })
    server.resetNext(1)
    const response = await request(`${server.url}/json`, {
      dispatcher: resources.dispatcher,
      method: 'PUT',
      body: 'data',
    })
    expect(await response.body.json()).toEqual({ ok: true, method: 'PUT' })
    expect(resources.stats.retries).toBe(2)
    expect(server.resets).toBe(2)
  })

  test('the retry goes out on a new connection: the other idle ones are dropped first', async () => {
    const resources = resourcesFor()
    const held = server.holdNext(3)
    const three = Promise.all([1, 2, 3].map(() => getJson({ dispatcher: resources.dispatcher })))
    await held.reached
    held.release()
    await three
    await nextInvocation()
    expect(resources.dispatcher.idleConnections).toBe(3)
    // Dropped silently: the client cannot tell until it sends, and every send on one is reset.
    server.expireIdleConnections()
    expect(await getJson({ dispatcher: resources.dispatcher })).toEqual({ ok: true, method: 'GET' })
    expect(resources.stats).toMatchObject({ retries: 1, idleSocketsDropped: 2 })
    expect(server.connections).toBe(4)
  })

  test('is not retried for POST, for a streamed body, or with retryOnReset false', async () => {
    const resources = resourcesFor()
    server.resetNext(1)
    const post = getJson({ dispatcher: resources.dispatcher, method: 'POST', body: 'x' })
    await expect(post).rejects.toThrow('fetch failed')
    expect(await post.catch(causeCode)).toBe('ECONNRESET')
    // fetch hands a body to the dispatcher as a stream: it cannot be sent twice.
    server.resetNext(1)
    await expect(getJson({ dispatcher: resources.dispatcher, method: 'PUT', body: 'x' })).rejects.toThrow(
      'fetch failed',
    )
    const strict = resourcesFor({ retryOnReset: false })
    server.resetNext(1)
    await expect(getJson({ dispatcher: strict.dispatcher })).rejects.toThrow('fetch failed')
    expect(resources.stats.retries + strict.stats.retries).toBe(0)
  })
})

describe('idle connections', () => {
  test('dropIdleSockets closes idle connections and lets one in flight finish', async () => {
    const resources = resourcesFor()
    const { dispatcher } = resources
    await getJson({ dispatcher })
    await nextInvocation()
    const held = server.holdNext(1)
    const inFlight = getJson({ dispatcher })
    await held.reached
    expect(dispatcher.idleConnections).toBe(0)
    await getJson({ dispatcher }) // a second connection, idle afterwards
    expect(dispatcher.idleConnections).toBe(1)
    expect(resources.dropIdleSockets()).toBe(1)
    held.release()
    expect(await inFlight).toEqual({ ok: true, method: 'GET' })
    await getJson({ dispatcher })
    expect(server.connections).toBe(3)
    expect(server.held).toBe(0)
  })

  test('after a gap longer than thawThresholdMs the middleware drops them before the handler runs', async () => {
    const resources = resourcesFor()
    const handler = middy()
      .use(keepaliveAgent({ tls: { ca: server.ca } }))
      .handler(async (_event: unknown, context) => getJson({ dispatcher: context.http.dispatcher }))
    await handler({}, lambdaContext())
    advanceClock(4001)
    await handler({}, lambdaContext())
    expect(resources.stats).toMatchObject({ thaws: 1, idleSocketsDropped: 1 })
    expect(server.connections).toBe(2)
  })

  test('a connection idle past its timeout while timers could not run is not reused', async () => {
    const resources = resourcesFor({ freeSocketTimeoutMs: 1000 })
    await getJson({ dispatcher: resources.dispatcher })
    advanceClock(1001)
    await getJson({ dispatcher: resources.dispatcher })
    expect(resources.stats.expiredSocketsPruned).toBe(1)
    expect(server.connections).toBe(2)
  })

  test('the request timeout applies to the response headers', async () => {
    const { dispatcher } = resourcesFor({ requestTimeoutMs: 300 })
    const stalled = getJson({ dispatcher }, '/stall')
    await expect(stalled).rejects.toThrow('fetch failed')
    // undici's HeadersTimeoutError (UND_ERR_HEADERS_TIMEOUT); under Jest it comes from another realm
    // than Node's fetch, which then keeps only its message as the cause.
    const cause = await stalled.catch((error: { cause?: unknown }) => error.cause)
    expect(String(cause)).toContain('Headers Timeout Error')
  })
})

describe('installGlobal', () => {
  // Node's own fetch reads the global dispatcher of the main realm, not of Jest's sandbox: that
  // part is tested in a real environment (environment.test.ts). undici's fetch reads this realm's.
  test("undici's fetch without a dispatcher and https.get without an agent use the shared pool", async () => {
    keepaliveAgent({ tls: { ca: server.ca }, installGlobal: true })
    const resources = resourcesFor()
    const response = await undiciFetch(`${server.url}/json`)
    expect(await response.json()).toEqual({ ok: true, method: 'GET' })
    expect(resources.dispatcher.idleConnections).toBe(1)
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get(`${server.url}/json`, (res) => {
          let text = ''
          res.on('data', (chunk: Buffer) => {
            text += chunk
          })
          res.on('end', () => resolve(text))
        })
        .on('error', reject)
    })
    expect(JSON.parse(body)).toEqual({ ok: true, method: 'GET' })
    expect(Object.keys(resources.httpsAgent.freeSockets)).toHaveLength(1)
    uninstallGlobal()
    expect(https.globalAgent).not.toBe(resources.httpsAgent)
  })
})
