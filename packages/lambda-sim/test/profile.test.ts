import { expect, test } from '@jest/globals'
import { describePhase, errorCode, parseProfile } from '../src/index.js'

test('parseProfile accepts an array or { phases }, and names what is wrong', () => {
  const phases = [{ concurrency: 40, invocations: 200 }, { pauseMs: 3000, reap: 0.5 }, { invocations: 1 }]
  expect(parseProfile(phases)).toEqual(phases)
  expect(parseProfile({ phases })).toEqual(phases)
  expect(() => parseProfile([])).toThrow('non-empty array')
  expect(() => parseProfile([{ invocations: 1 }, 'x'])).toThrow('phase 1: expected an object')
  expect(() => parseProfile([{ concurrency: 0, invocations: 1 }])).toThrow(
    'phase 0: concurrency must be an integer >= 1',
  )
  expect(() => parseProfile([{ concurrency: 2 }])).toThrow('concurrency is given without invocations')
  expect(() => parseProfile([{ invocation: 2 }])).toThrow('unknown field "invocation"')
  expect(() => parseProfile([{ reap: 1.5 }])).toThrow('reap must be a fraction')
  expect(() => parseProfile([{ pauseMs: -1 }])).toThrow('pauseMs must be a number >= 0')
})

test('describePhase', () => {
  expect(describePhase({ concurrency: 40, invocations: 200 })).toBe('200 invocations at concurrency 40')
  expect(describePhase({ pauseMs: 3000, reap: 0.5 })).toBe('reap 50%, pause 3000 ms')
  expect(describePhase({})).toBe('nothing')
})

test('errorCode: code, else cause code, else name', () => {
  expect(errorCode({ name: 'Error', message: '', code: 'ECONNRESET', causeCode: 'X' })).toBe('ECONNRESET')
  expect(errorCode({ name: 'Error', message: '', code: 1040 })).toBe('1040')
  expect(errorCode({ name: 'DownstreamError', message: '', causeCode: 'ER_CON_COUNT_ERROR' })).toBe(
    'ER_CON_COUNT_ERROR',
  )
  expect(errorCode({ name: 'TimeoutError', message: '' })).toBe('TimeoutError')
  expect(errorCode(undefined)).toBe('Error')
})
