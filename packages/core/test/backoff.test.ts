import { describe, expect, test } from '@jest/globals'
import { createBackoff, Deadline, RetryGaveUp, retryWithin } from '../src/index.js'

const sequence = (...values: number[]) => {
  let i = 0
  return () => values[i++ % values.length]!
}

describe('createBackoff', () => {
  test('full jitter draws from [0, min(cap, base * 2^n)]', () => {
    const top = createBackoff({ strategy: 'full', baseMs: 10, capMs: 100, random: () => 0.999999 })
    expect([top(), top(), top(), top(), top()].map(Math.round)).toEqual([10, 20, 40, 80, 100])
    const bottom = createBackoff({ strategy: 'full', baseMs: 10, capMs: 100, random: () => 0 })
    expect([bottom(), bottom()]).toEqual([0, 0])
  })

  test('decorrelated jitter draws from [base, previous * 3], capped', () => {
    const top = createBackoff({ strategy: 'decorrelated', baseMs: 10, capMs: 500, random: () => 1 })
    expect([top(), top(), top(), top(), top()]).toEqual([30, 90, 270, 500, 500])
    const bottom = createBackoff({ strategy: 'decorrelated', baseMs: 10, capMs: 500, random: () => 0 })
    expect([bottom(), bottom()]).toEqual([10, 10])
  })

  test('delays grow well beyond a few milliseconds (serverless-mysql stays at 0-2 ms)', () => {
    const next = createBackoff({ strategy: 'decorrelated', baseMs: 50, capMs: 1000, random: sequence(0.5) })
    const delays = Array.from({ length: 6 }, next)
    expect(Math.max(...delays)).toBeGreaterThan(200)
  })
})

describe('retryWithin', () => {
  test('retries retryable errors and returns the first success', async () => {
    let calls = 0
    const result = await retryWithin(
      async () => {
        calls += 1
        if (calls < 3) throw new Error('busy')
        return 'done'
      },
      { deadline: Deadline.none(), isRetryable: () => true },
      { baseMs: 1, capMs: 2 },
    )
    expect(result).toBe('done')
    expect(calls).toBe(3)
  })

  test('stops at once on a non-retryable error', async () => {
    const error = new Error('syntax')
    const gaveUp = await retryWithin(
      async () => {
        throw error
      },
      { deadline: Deadline.none(), isRetryable: () => false },
    ).catch((e) => e)
    expect(gaveUp).toBeInstanceOf(RetryGaveUp)
    expect(gaveUp).toMatchObject({ lastError: error, attempts: 1, reason: 'not-retryable' })
  })

  test('never sleeps past the deadline', async () => {
    const deadline = new Deadline(Date.now() + 300)
    const retries: number[] = []
    const gaveUp = await retryWithin(
      async () => {
        throw new Error('busy')
      },
      { deadline, isRetryable: () => true, onRetry: ({ delayMs }) => retries.push(delayMs) },
      { strategy: 'decorrelated', baseMs: 40, capMs: 1000, maxAttempts: 100, random: () => 1 },
    ).catch((e) => e)
    expect(gaveUp).toMatchObject({ reason: 'deadline' })
    expect(Date.now()).toBeLessThanOrEqual(deadline.expiresAt)
    expect(retries.length).toBeGreaterThan(0)
  })

  test('sleeps what the failed attempt asks for, and the backoff when it asks for nothing', async () => {
    const asked = [7, undefined, 3]
    const delays: number[] = []
    await retryWithin(
      async (attempt) => {
        if (attempt <= asked.length) throw new Error(`busy ${attempt}`)
        return 'done'
      },
      {
        deadline: Deadline.none(),
        isRetryable: () => true,
        delayOf: (error) => asked[Number(String((error as Error).message).split(' ')[1]) - 1],
        onRetry: ({ delayMs }) => delays.push(delayMs),
      },
      { strategy: 'decorrelated', baseMs: 11, capMs: 11, maxAttempts: 10 },
    )
    expect(delays).toEqual([7, 11, 3])
  })

  test('stops after maxAttempts', async () => {
    const gaveUp = await retryWithin(
      async () => {
        throw new Error('busy')
      },
      { deadline: Deadline.none(), isRetryable: () => true },
      { maxAttempts: 3, baseMs: 1, capMs: 1 },
    ).catch((e) => e)
    expect(gaveUp).toMatchObject({ reason: 'attempts', attempts: 3 })
  })
})

describe('Deadline', () => {
  test('is the remaining time minus the margin, and bounds timeouts', () => {
    const deadline = Deadline.fromContext({ getRemainingTimeInMillis: () => 1000 }, 200)
    expect(deadline.remaining()).toBeLessThanOrEqual(800)
    expect(deadline.remaining()).toBeGreaterThan(700)
    expect(deadline.bound(5000)).toBeLessThanOrEqual(800)
    expect(deadline.bound(100)).toBe(100)
  })

  test("reads Middy 7's durable context, and is unbounded without a clock", () => {
    const durable = { lambdaContext: { getRemainingTimeInMillis: () => 500 } }
    expect(Deadline.fromContext(durable, 0).bounded).toBe(true)
    expect(Deadline.fromContext({}, 100).bounded).toBe(false)
    expect(Deadline.fromContext({}, 100).bound(250)).toBe(250)
  })
})
