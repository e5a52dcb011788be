import { inspect } from 'node:util'
import { describe, expect, test } from '@jest/globals'
import { CredentialError, CredentialSource, redact } from '../src/index.js'

describe('CredentialSource', () => {
  test('a value is returned as is and remembered for redaction; it cannot be refreshed', async () => {
    const source = new CredentialSource('static-secret-4711')
    expect(await source.fetch(10)).toBe('static-secret-4711')
    expect(redact('pw static-secret-4711')).toBe('pw ***')
    const credentials = source.forConnect()
    expect(await credentials.secret(10)).toBe('static-secret-4711')
    expect(credentials.refreshAfterRejection()).toBe(false)
  })

  test('a provider is asked for each connect, once for all of its attempts', async () => {
    let asked = 0
    const source = new CredentialSource(async () => `token-number-${++asked}`)
    const first = source.forConnect()
    expect(await first.secret(100)).toBe('token-number-1')
    expect(await first.secret(100)).toBe('token-number-1')
    expect(await source.forConnect().secret(100)).toBe('token-number-2')
    expect(asked).toBe(2)
    expect(redact('token-number-2')).toBe('***')
  })

  test('after a rejection a provider is asked once more, and a second rejection is final', async () => {
    let asked = 0
    const credentials = new CredentialSource(() => `token-number-${++asked}`).forConnect()
    await credentials.secret(100)
    expect(credentials.refreshAfterRejection()).toBe(true)
    expect(await credentials.secret(100)).toBe('token-number-2')
    expect(credentials.refreshAfterRejection()).toBe(false)
    expect(await credentials.secret(100)).toBe('token-number-2')
    expect(asked).toBe(2)
  })

  test('a provider that does not answer in time fails with a CredentialError, the timeout its cause', async () => {
    const source = new CredentialSource(() => new Promise<string>(() => {}))
    const error = await source.fetch(5).catch((e) => e)
    expect(error).toBeInstanceOf(CredentialError)
    expect(error).toMatchObject({
      code: 'ETIMEDOUT',
      message: 'the password provider failed (no answer within 5 ms)',
    })
    expect(error.cause).toBeInstanceOf(Error)
  })

  test('a provider that throws or answers no string: a CredentialError with the cause, no secret in it', async () => {
    new CredentialSource('known-secret-8472').fetch(1)
    const boom = new Error('denied for known-secret-8472')
    const thrown = await new CredentialSource(() => Promise.reject(boom)).fetch(100).catch((e) => e)
    expect(thrown).toBeInstanceOf(CredentialError)
    expect(thrown.cause).toBe(boom)
    expect(thrown.message).toBe('the password provider failed (denied for ***)')
    const notString = await new CredentialSource((() => 42) as unknown as () => string)
      .fetch(100)
      .catch((e) => e)
    expect(notString.message).toBe(
      'the password provider failed (the password provider must return a string)',
    )
  })

  test('logged, a source shows no secret', async () => {
    const source = new CredentialSource('logged-secret-1234')
    const credentials = source.forConnect()
    await credentials.secret(10)
    const shown = `${JSON.stringify({ source, credentials })} ${inspect({ source, credentials }, { depth: 5 })}`
    expect(shown).not.toContain('logged-secret-1234')
  })
})
