import { describe, expect, it } from '@jest/globals'
import { downstreamGuard, type GuardOptions } from '../src/index.js'

const redis = { url: 'redis://127.0.0.1:1' }
const build = (options: unknown) => () => downstreamGuard(options as GuardOptions)

describe('bad options are refused at construction', () => {
  it('requires the options, a name, redis and a limit', () => {
    expect(build(undefined)).toThrow(/options are required/)
    expect(build({ redis, concurrency: 1 })).toThrow(/option "name" is required/)
    expect(build({ name: 'x', concurrency: 1 })).toThrow(/option "redis" is required/)
    expect(build({ name: 'x', redis })).toThrow(/set "concurrency", "rate" or both/)
  })

  it('names the option, what it must be and the fix', () => {
    expect(build({ name: 'x', redis, concurrency: 0 })).toThrow(
      /option "concurrency" must be an integer >= 1, got number 0; permits held at once/,
    )
    expect(build({ name: 'x', redis, concurrency: 2.5 })).toThrow(/"concurrency" must be an integer/)
    expect(build({ name: 'x', redis, rate: -1 })).toThrow(/option "rate" must be a number >= 0.001/)
    expect(build({ name: 'x', redis, rate: 5, burst: 0 })).toThrow(/option "burst" must be an integer >= 1/)
    expect(build({ name: 'x', redis, concurrency: 1, burst: 3 })).toThrow(/"burst" needs "rate"/)
    expect(build({ name: 'x', redis, concurrency: 1, failOpen: 'yes' })).toThrow(
      /"failOpen" must be a boolean/,
    )
    expect(build({ name: 'x', redis, concurrency: 1, batchThrottle: 'retry' })).toThrow(
      /"batchThrottle" must be one of "report", "throw"/,
    )
    expect(build({ name: '', redis, concurrency: 1 })).toThrow(/"name" must be a non-empty string/)
    expect(build({ name: 'x', redis, concurrency: 1, lazy: 'yes' })).toThrow(/"lazy" must be a boolean/)
    expect(build({ name: 'x', redis, concurrency: 1, onEvent: 'log' })).toThrow(
      /"onEvent" must be a function/,
    )
    expect(build({ name: 'x', redis, concurrency: 1, contextKey: '' })).toThrow(/"contextKey"/)
  })

  it('suggests the right name for a typo', () => {
    expect(build({ name: 'x', redis, concurency: 1 })).toThrow(/did you mean "concurrency"/)
  })

  it('checks the nested Redis options with redis-connection’s own rules', () => {
    expect(build({ name: 'x', redis: { url: 'redis://h', marginMs: -5 }, concurrency: 1 })).toThrow(
      /marginMs/,
    )
  })

  it('never prints a value that may be a secret', () => {
    const secret = 'hunter2-very-secret'
    const thrown = (options: unknown) => {
      try {
        build(options)()
      } catch (error) {
        return error
      }
      return undefined
    }
    for (const options of [
      { name: 'x', redis, concurrency: 1, marginMs: secret },
      { name: 'x', redis: { url: `redis://:${secret}@h`, marginMs: -1 }, concurrency: 1 },
    ]) {
      const error = thrown(options)
      expect(error).toBeInstanceOf(TypeError)
      expect(String(error)).not.toContain(secret)
    }
  })
})
