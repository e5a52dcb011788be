import http from 'node:http'
import https from 'node:https'
import { afterEach, describe, expect, jest, test } from '@jest/globals'
import middy from '@middy/core'
import { type FakeContextOptions, fakeContext } from '@middy-downstream/testing'
import { getGlobalDispatcher } from 'undici'
import keepaliveAgent, {
  createHttpResources,
  defaults,
  type HttpResources,
  installedGlobal,
  type KeepaliveAgentContext,
  type KeepaliveDispatcher,
  type KeepaliveHttpsAgent,
  type KeepaliveRequestHandler,
  resourceDefaults,
  uninstallGlobal,
} from '../src/index.js'

/**
 * A fake Lambda context, typed as the context the middleware promises the handler: Middy types the
 * wrapped handler as taking that context, so a test calling it directly says so.
 */
const lambdaContext = <K extends string = 'http'>(options?: FakeContextOptions) =>
  fakeContext(options) as KeepaliveAgentContext<K>

// Each test makes its own resources (a distinct maxSockets), closed afterwards.
const made: HttpResources[] = []
const track = (resources: HttpResources) => {
  made.push(resources)
  return resources
}
afterEach(async () => {
  clockOffset = 0
  jest.restoreAllMocks()
  uninstallGlobal()
  await Promise.all(made.splice(0).map((r) => r.close()))
})

// Moves `Date.now()` forward without waiting: what a frozen environment sees when it is thawed.
const realNow = Date.now
let clockOffset = 0
const advanceClock = (ms: number) => {
  clockOffset += ms
  jest.spyOn(Date, 'now').mockImplementation(() => realNow.call(Date) + clockOffset)
}

describe('context.http', () => {
  test('holds the shared resources, typed, the same objects on every invocation', async () => {
    const seen: HttpResources[] = []
    const handler = middy()
      .use(keepaliveAgent({ maxSockets: 101 }))
      .handler(async (_event: unknown, context) => {
        // Typed without a cast: these lines would not compile otherwise.
        const dispatcher: KeepaliveDispatcher = context.http.dispatcher
        const requestHandler: KeepaliveRequestHandler = context.http.requestHandler
        const agent: KeepaliveHttpsAgent = context.http.httpsAgent
        expect([dispatcher, requestHandler, agent]).toHaveLength(3)
        seen.push(context.http)
        return context.functionName
      })
    expect(await handler({}, lambdaContext({ functionName: 'fan-out' }))).toBe('fan-out')
    await handler({}, lambdaContext())
    track(seen[0]!)
    expect(seen[0]).toBe(seen[1])
    expect(seen[0]).toBe(createHttpResources({ maxSockets: 101 }))
    expect(seen[0]!.httpsAgent).toBeInstanceOf(https.Agent)
    expect(seen[0]!.httpAgent).toBeInstanceOf(http.Agent)
    expect(seen[0]!.settings).toEqual({ ...resourceDefaults, maxSockets: 101 })
  })

  test('contextKey puts them elsewhere, typed under that name', async () => {
    let found: unknown
    const handler = middy()
      .use(keepaliveAgent({ maxSockets: 102, contextKey: 'web' }))
      .handler(async (_event: unknown, context) => {
        found = context.web.dispatcher
      })
    await handler({}, lambdaContext<'web'>())
    expect(found).toBe(track(createHttpResources({ maxSockets: 102 })).dispatcher)
  })

  test('equal options share one set of resources, different options do not', () => {
    const a = track(createHttpResources({ maxSockets: 103, tls: { ca: 'PEM-A' } }))
    expect(createHttpResources({ tls: { ca: 'PEM-A' }, maxSockets: 103, thawThresholdMs: undefined })).toBe(a)
    const b = track(createHttpResources({ maxSockets: 103, tls: { ca: 'PEM-B' } }))
    const c = track(createHttpResources({ maxSockets: 104, tls: { ca: 'PEM-A' } }))
    expect(new Set([a, b, c]).size).toBe(3)
    expect(JSON.stringify(a.settings)).not.toContain('PEM')
  })

  test('a closed set is forgotten: the same options then make a new one', async () => {
    const first = createHttpResources({ maxSockets: 105 })
    await first.close()
    expect(track(createHttpResources({ maxSockets: 105 }))).not.toBe(first)
  })

  test('a frozen context gets a warning once, and the invocation still runs', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const handler = middy()
      .use(keepaliveAgent({ maxSockets: 106 }))
      .handler(async () => 'ran')
    track(createHttpResources({ maxSockets: 106 }))
    const frozen = () => Object.freeze(fakeContext()) as KeepaliveAgentContext
    expect(await handler({}, frozen())).toBe('ran')
    expect(await handler({}, frozen())).toBe('ran')
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0]![0])).toContain('createHttpResources')
  })
})

describe('thaw hygiene bookkeeping', () => {
  test('an invocation after a gap longer than thawThresholdMs counts a thaw; a shorter gap does not', async () => {
    const resources = track(createHttpResources({ maxSockets: 107, thawThresholdMs: 1000 }))
    const handler = middy()
      .use(keepaliveAgent({ maxSockets: 107, thawThresholdMs: 1000 }))
      .handler(async () => {})
    await handler({}, lambdaContext())
    advanceClock(500)
    await handler({}, lambdaContext())
    expect(resources.stats.thaws).toBe(0)
    advanceClock(1001)
    await handler({}, lambdaContext())
    expect(resources.stats.thaws).toBe(1)
  })

  test('the idle clock starts when an invocation ends, also when it throws', async () => {
    const resources = track(createHttpResources({ maxSockets: 108, thawThresholdMs: 1000 }))
    const handler = middy<{ work?: number; fail?: boolean }>()
      .use(keepaliveAgent({ maxSockets: 108, thawThresholdMs: 1000 }))
      .handler(async (event) => {
        if (event.work) advanceClock(event.work) // a long invocation, not a freeze
        if (event.fail) throw new Error('boom')
      })
    await expect(handler({ work: 5000, fail: true }, lambdaContext())).rejects.toThrow('boom')
    advanceClock(500)
    await handler({}, lambdaContext())
    expect(resources.stats.thaws).toBe(0)
  })
})

describe('installGlobal', () => {
  test('makes the shared agents and dispatcher the process defaults, and is reversible', () => {
    const before = { http: http.globalAgent, https: https.globalAgent, dispatcher: getGlobalDispatcher() }
    keepaliveAgent({ maxSockets: 109, installGlobal: true })
    const resources = track(createHttpResources({ maxSockets: 109 }))
    expect(installedGlobal()).toBe(resources)
    expect(http.globalAgent).toBe(resources.httpAgent)
    expect(https.globalAgent).toBe(resources.httpsAgent)
    expect(getGlobalDispatcher()).toBe(resources.dispatcher)
    expect(uninstallGlobal()).toBe(true)
    expect(uninstallGlobal()).toBe(false)
    expect(http.globalAgent).toBe(before.http)
    expect(https.globalAgent).toBe(before.https)
    expect(getGlobalDispatcher()).toBe(before.dispatcher)
  })

  test('closing the installed resources puts the previous defaults back', async () => {
    const previous = https.globalAgent
    keepaliveAgent({ maxSockets: 110, installGlobal: true })
    await createHttpResources({ maxSockets: 110 }).close()
    expect(https.globalAgent).toBe(previous)
    expect(installedGlobal()).toBeUndefined()
  })

  test('is off by default', () => {
    const previous = https.globalAgent
    keepaliveAgent({ maxSockets: 111 })
    track(createHttpResources({ maxSockets: 111 }))
    expect(https.globalAgent).toBe(previous)
  })
})

describe('options', () => {
  test.each([
    [{ maxSocket: 10 }, 'unknown option "maxSocket" (did you mean "maxSockets"?)'],
    [{ maxSockets: 0 }, 'option "maxSockets" must be an integer >= 1 or Infinity, got number 0'],
    [{ maxSockets: 2.5 }, 'option "maxSockets" must be an integer >= 1 or Infinity, got number 2.5'],
    [{ thawThresholdMs: -1 }, 'option "thawThresholdMs" must be an integer >= 0 and <= 2147483647'],
    [{ freeSocketTimeoutMs: 0 }, 'option "freeSocketTimeoutMs" must be an integer >= 1'],
    [{ requestTimeoutMs: '30s' }, 'option "requestTimeoutMs" must be an integer >= 0'],
    [{ connectionTimeoutMs: Number.NaN }, 'got NaN; use 0 for no timeout'],
    [{ retryOnReset: 'yes' }, 'option "retryOnReset" must be a boolean'],
    [{ tls: { ca: 'x', rejectUnauthorised: false } }, 'option "tls" must be an object with TLS options'],
    [{ contextKey: '' }, 'option "contextKey" must be a non-empty string, got a string of length 0'],
    [{ installGlobal: 1 }, 'option "installGlobal" must be a boolean, got number 1'],
  ])('%j is rejected at construction with a TypeError naming the option', (options, message) => {
    expect(() => keepaliveAgent(options as never)).toThrow(TypeError)
    expect(() => keepaliveAgent(options as never)).toThrow(message)
  })

  test('createHttpResources validates the same way, and accepts Infinity', () => {
    expect(() => createHttpResources({ contextKey: 'http' } as never)).toThrow('unknown option "contextKey"')
    const unlimited = track(createHttpResources({ maxSockets: Number.POSITIVE_INFINITY }))
    expect(unlimited.httpsAgent.maxSockets).toBe(Number.POSITIVE_INFINITY)
  })

  test('an option set to undefined keeps its default', () => {
    const resources = track(createHttpResources({ maxSockets: 112, requestTimeoutMs: undefined }))
    expect(resources.settings.requestTimeoutMs).toBe(defaults.requestTimeoutMs)
  })

  test('defaults', () => {
    expect(defaults).toEqual({
      maxSockets: 256,
      freeSocketTimeoutMs: 30_000,
      thawThresholdMs: 4_000,
      connectionTimeoutMs: 3_000,
      requestTimeoutMs: 30_000,
      retryOnReset: true,
      contextKey: 'http',
      installGlobal: false,
    })
  })
})
