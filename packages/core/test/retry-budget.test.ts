import { describe, expect, test } from '@jest/globals'
import { RetryBudget } from '../src/index.js'

/** A deadline whose remaining time the test sets: no clock involved. */
const fakeDeadline = (remainingMs: number) => ({ remaining: () => remainingMs })

describe('RetryBudget', () => {
  test('gives jittered delays until the attempts run out', () => {
    const budget = new RetryBudget({
      strategy: 'full',
      baseMs: 10,
      capMs: 100,
      maxAttempts: 4,
      random: () => 0.5,
    })
    expect([1, 2, 3].map((n) => budget.nextDelay(n))).toEqual([
      { delayMs: 5 },
      { delayMs: 10 },
      { delayMs: 20 },
    ])
    expect(budget.nextDelay(4)).toEqual({ stop: 'attempts' })
  })

  test('immediateFirstRetry: the first retry at once, the backoff from the second', () => {
    const budget = new RetryBudget({ baseMs: 50, capMs: 500, random: () => 0, immediateFirstRetry: true })
    expect(budget.nextDelay(1)).toEqual({ delayMs: 0 })
    expect(budget.nextDelay(2)).toEqual({ delayMs: 50 })
  })

  test('stops when less than minAttemptMs is left before the deadline', () => {
    const budget = new RetryBudget({ minAttemptMs: 50, random: () => 0 })
    expect(budget.nextDelay(1, fakeDeadline(50))).toEqual({ stop: 'deadline' })
    expect(budget.nextDelay(1, fakeDeadline(-10))).toEqual({ stop: 'deadline' })
  })

  test('shortens the last delay to what is left, for one last attempt, then stops', () => {
    const budget = new RetryBudget({
      strategy: 'decorrelated',
      baseMs: 400,
      capMs: 1000,
      minAttemptMs: 50,
      random: () => 0,
    })
    expect(budget.nextDelay(1, fakeDeadline(250))).toEqual({ delayMs: 200 })
    // Time is still left after that last attempt (it failed fast), yet the budget was spent.
    expect(budget.nextDelay(2, fakeDeadline(240))).toEqual({ stop: 'deadline' })
  })

  test('a delay never ends closer to the deadline than minAttemptMs', () => {
    const random = [0.9, 0.1, 0.7, 0.3, 0.99, 0.5]
    for (const [i, r] of random.entries()) {
      const remaining = 60 + i * 97
      const budget = new RetryBudget({ baseMs: 50, capMs: 2000, minAttemptMs: 50, random: () => r })
      const decision = budget.nextDelay(1, fakeDeadline(remaining))
      expect('delayMs' in decision && decision.delayMs <= remaining - 50).toBe(true)
    }
  })

  test('a delay the failure asks for replaces the backoff, bounded by the deadline the same way', () => {
    const budget = new RetryBudget({ baseMs: 10, capMs: 10, minAttemptMs: 50, random: () => 0 })
    expect(budget.nextDelay(1, fakeDeadline(1000), 300)).toEqual({ delayMs: 300 })
    expect(budget.nextDelay(2, fakeDeadline(1000))).toEqual({ delayMs: 10 })
    expect(budget.nextDelay(3, fakeDeadline(250), 900)).toEqual({ delayMs: 200 })
    expect(budget.nextDelay(4, fakeDeadline(240))).toEqual({ stop: 'deadline' })
  })

  test('without a deadline only the attempts bound it', () => {
    const budget = new RetryBudget({ maxAttempts: 100, baseMs: 1, capMs: 1, random: () => 1 })
    for (let n = 1; n < 100; n++) expect(budget.nextDelay(n)).toEqual({ delayMs: 1 })
    expect(budget.nextDelay(100)).toEqual({ stop: 'attempts' })
  })

  test('reset starts the backoff over and restores the last chance', () => {
    const budget = new RetryBudget({ strategy: 'decorrelated', baseMs: 10, capMs: 1000, random: () => 1 })
    expect([1, 2, 3].map((n) => budget.nextDelay(n))).toEqual([
      { delayMs: 30 },
      { delayMs: 90 },
      { delayMs: 270 },
    ])
    expect(budget.nextDelay(4, fakeDeadline(100))).toEqual({ delayMs: 50 })
    expect(budget.nextDelay(5, fakeDeadline(100))).toEqual({ stop: 'deadline' })
    budget.reset()
    expect(budget.nextDelay(1, fakeDeadline(100))).toEqual({ delayMs: 30 })
  })
})
