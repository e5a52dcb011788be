import { describe, expect, test } from '@jest/globals'
import middy from '@middy/core'
import {
  contextKeyRule,
  createManagedMiddleware,
  Deadline,
  EventSink,
  fingerprint,
  portRule,
  redact,
  remainingTimeMs,
  rememberedSecretCount,
  rememberSecret,
  validateOptions,
} from '../src/index.js'

/** A backend that records its scopes' lifecycle. */
const recorder = () => {
  const log: string[] = []
  let n = 0
  const middleware = createManagedMiddleware<{ id: number }>({
    name: 'test',
    contextKey: 'thing',
    events: new EventSink('test', 'k'),
    marginMs: 0,
    eager: false,
    begin: () => {
      const id = ++n
      log.push(`begin ${id}`)
      return {
        handle: { id },
        acquire: async () => ({ id }),
        release: async (outcome) => {
          log.push(`release ${id} ${outcome}`)
        },
      }
    },
  })
  return { log, middleware }
}

const earlyReturner = { before: async () => ({ statusCode: 401 }) }

describe('createManagedMiddleware: release on every path', () => {
  test('after and onError release once each', async () => {
    const { log, middleware } = recorder()
    const ok = middy()
      .use(middleware)
      .handler(async () => 'ok')
    const failing = middy()
      .use(middleware)
      .handler(async () => {
        throw new Error('boom')
      })
    await ok({}, {} as never)
    await expect(failing({}, {} as never)).rejects.toThrow('boom')
    expect(log).toEqual(['begin 1', 'release 1 success', 'begin 2', 'release 2 error'])
  })

  test('an early return by a later middleware, with no clock, is released when the next invocation begins', async () => {
    const { log, middleware } = recorder()
    const handler = middy()
      .use(middleware)
      .use(earlyReturner)
      .handler(async () => 'never')
    expect(await handler({}, {} as never)).toEqual({ statusCode: 401 })
    expect(log).toEqual(['begin 1'])
    await handler({}, {} as never)
    expect(log).toEqual(['begin 1', 'release 1 success', 'begin 2'])
  })

  test('concurrent invocations still running are never released by another one', async () => {
    const { log, middleware } = recorder()
    let unblock!: () => void
    const blocked = new Promise<void>((resolve) => (unblock = resolve))
    const slow = middy()
      .use(middleware)
      .handler(async () => blocked)
    const first = slow({}, {} as never)
    const second = slow({}, {} as never)
    await new Promise((resolve) => setImmediate(resolve))
    expect(log).toEqual(['begin 1', 'begin 2'])
    unblock()
    await Promise.all([first, second])
    expect(log.filter((l) => l.startsWith('release'))).toHaveLength(2)
  })
})

describe('createManagedMiddleware: no promise where nothing is waited for', () => {
  /** A backend whose release has nothing to wait for unless told to, like a kept SQL connection. */
  const syncBackend = (events: EventSink, releaseWith: () => Promise<void> | undefined) =>
    createManagedMiddleware<{ id: number }>({
      name: 'test',
      contextKey: 'thing',
      events,
      marginMs: 0,
      eager: false,
      begin: () => ({ handle: { id: 1 }, acquire: () => ({ id: 1 }), release: releaseWith }),
    })
  const request = () => ({ event: {}, context: {}, response: undefined, error: undefined, internal: {} })

  test('a lazy before and a release with nothing to wait for return nothing (Middy 7 then awaits nothing)', () => {
    const middleware = syncBackend(new EventSink('test', 'k'), () => undefined)
    const req = request()
    expect(middleware.before?.(req as never)).toBeUndefined()
    expect((req.context as { thing?: unknown }).thing).toEqual({ id: 1 })
    expect(middleware.after?.(req as never)).toBeUndefined()
  })

  test("a release that throws or rejects becomes an error event, never the handler's error", async () => {
    const events = new EventSink('test', 'k')
    const seen: string[] = []
    events.subscribe((event) => seen.push(`${event.type} ${event.error?.message}`))
    const throwing = syncBackend(events, () => {
      throw new Error('sync boom')
    })
    const rejecting = syncBackend(events, () => Promise.reject(new Error('async boom')))
    for (const middleware of [throwing, rejecting]) {
      const handler = middy()
        .use(middleware)
        .handler(async () => 'ok')
      expect(await handler({}, {} as never)).toBe('ok')
    }
    expect(seen).toEqual(['error sync boom', 'error async boom'])
  })
})

describe('options and clocks', () => {
  test('a clock that returns NaN is no clock', () => {
    const context = { getRemainingTimeInMillis: () => Number.NaN }
    expect(remainingTimeMs(context)).toBeUndefined()
    expect(Deadline.fromContext(context, 100).bounded).toBe(false)
  })

  test('contextKey may not replace a Lambda context property', () => {
    const schema = { contextKey: contextKeyRule }
    expect(() => validateOptions('pkg', schema, { contextKey: 'getRemainingTimeInMillis' })).toThrow(
      /option "contextKey" must be a non-empty name that is not a Lambda context property/,
    )
    expect(() => validateOptions('pkg', schema, { contextKey: 'db' })).not.toThrow()
  })

  test('nested fields are checked and named parent.field; a secret is described by type only', () => {
    const schema = {
      config: {
        type: 'shape' as const,
        description: 'driver options',
        fields: { port: portRule, password: { type: 'string' as const } },
      },
    }
    expect(() => validateOptions('pkg', schema, { config: { port: 'abc' } })).toThrow(
      /option "config.port" must be an integer from 1 to 65535/,
    )
    expect(() => validateOptions('pkg', schema, { config: { password: 918273 } })).toThrow(
      /option "config.password" must be a string, got number$/,
    )
    expect(() => validateOptions('pkg', schema, { config: { port: '5432', other: 1 } })).not.toThrow()
  })
})

describe('registry keys and remembered secrets', () => {
  test('two functions with the same name and length give different keys', () => {
    const a = function create() {
      return 1
    }
    const b = function create() {
      return 2
    }
    expect(fingerprint('x', { createConnection: a })).not.toBe(fingerprint('x', { createConnection: b }))
    expect(fingerprint('x', { createConnection: a })).toBe(fingerprint('x', { createConnection: a }))
  })

  test('the remembered secrets are bounded and the newest are still redacted', () => {
    for (let i = 0; i < 20_000; i++) rememberSecret(`token-${i}-abcdefgh`)
    expect(rememberedSecretCount()).toBeLessThanOrEqual(64)
    expect(redact('x token-19999-abcdefgh y')).toBe('x *** y')
  })
})
