import { describe, expect, test } from '@jest/globals'
import {
  CapacityError,
  DownstreamError,
  EventSink,
  fingerprint,
  redact,
  redactError,
  rememberSecret,
  validateOptions,
} from '../src/index.js'

describe('errors', () => {
  test('keep the driver error as cause and copy its code, errno and sqlState', () => {
    const driver = Object.assign(new Error('Too many connections'), {
      code: 'ER_CON_COUNT_ERROR',
      errno: 1040,
      sqlState: '08004',
    })
    const error = new CapacityError('full', {
      package: '@middy-downstream/db-connection',
      cause: driver,
      attempts: 4,
    })
    expect(error).toBeInstanceOf(DownstreamError)
    expect(error).toMatchObject({
      name: 'CapacityError',
      kind: 'capacity',
      code: 'ER_CON_COUNT_ERROR',
      errno: 1040,
      sqlState: '08004',
      attempts: 4,
      package: '@middy-downstream/db-connection',
    })
    expect(error.cause).toBe(driver)
  })
})

describe('secrets', () => {
  test('remembered secrets and URL passwords are redacted from texts and error chains', () => {
    rememberSecret('s3cr3t-token-value')
    expect(redact('auth failed for s3cr3t-token-value')).toBe('auth failed for ***')
    expect(redact('mongodb://app:hunter22@db.example:27017/x')).toBe('mongodb://app:***@db.example:27017/x')
    const inner = Object.assign(new Error('bad s3cr3t-token-value'), { code: 'EAUTH' })
    const outer = new Error('wrapped', { cause: inner })
    redactError(outer)
    expect(inner.message).toBe('bad ***')
    expect(inner.stack).not.toContain('s3cr3t-token-value')
    expect(inner.code).toBe('EAUTH')
  })
})

describe('events', () => {
  test('count by type, pass events on, and survive a throwing listener', () => {
    const sink = new EventSink('@middy-downstream/x', 'x:1')
    const seen: string[] = []
    sink.subscribe(() => {
      throw new Error('observer bug')
    })
    sink.subscribe((event) => seen.push(`${event.package}:${event.type}`))
    sink.emit({ type: 'open' })
    sink.emit({ type: 'validate', ok: false })
    sink.emit({ type: 'reap', count: 3 })
    expect(seen).toEqual([
      '@middy-downstream/x:open',
      '@middy-downstream/x:validate',
      '@middy-downstream/x:reap',
    ])
    expect(sink.counters).toMatchObject({ opens: 1, validations: 1, validationFailures: 1, reaped: 3 })
  })
})

describe('fingerprint', () => {
  test('is stable across key order and differs across configs', () => {
    expect(fingerprint('db', { host: 'a', port: 1 })).toBe(fingerprint('db', { port: 1, host: 'a' }))
    expect(fingerprint('db', { host: 'a' })).not.toBe(fingerprint('db', { host: 'b' }))
  })
})

describe('validateOptions', () => {
  const schema = {
    contextKey: { type: 'string', nonEmpty: true },
    retries: { type: 'number', min: 0, integer: true, fix: 'use 0 to disable retries' },
    release: { type: 'oneOf', values: ['keep', 'close'] },
  } as const

  test.each([
    [{ contextKy: 'db' }, 'unknown option "contextKy" (did you mean "contextKey"?)'],
    [{ contextKey: '' }, 'option "contextKey" must be a non-empty string, got a string of length 0'],
    [{ retries: -1 }, 'option "retries" must be an integer >= 0, got number -1; use 0 to disable retries'],
    [{ retries: 1.5 }, 'must be an integer >= 0'],
    [{ release: 'sometimes' }, 'option "release" must be one of "keep", "close", got a string of length 9'],
  ])('%j fails with a TypeError naming the option', (options, message) => {
    expect(() => validateOptions('@middy-downstream/x', schema, options)).toThrow(TypeError)
    expect(() => validateOptions('@middy-downstream/x', schema, options)).toThrow(message)
  })

  test('never prints a value (it may be a secret)', () => {
    expect(() => validateOptions('@middy-downstream/x', schema, { contextKey: 42 })).toThrow('got number 42')
    expect(() => validateOptions('@middy-downstream/x', schema, { release: 'hunter22' })).not.toThrow(
      /hunter22/,
    )
  })

  test('accepts valid and undefined values', () => {
    expect(() =>
      validateOptions('@middy-downstream/x', schema, { contextKey: 'db', retries: 0, release: undefined }),
    ).not.toThrow()
  })
})
