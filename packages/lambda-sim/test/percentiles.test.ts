import { describe, expect, test } from '@jest/globals'
import { percentile, summarizeLatency } from '../src/index.js'

describe('percentile (nearest rank)', () => {
  test('on a known small set', () => {
    const sorted = [15, 20, 35, 40, 50]
    expect([0, 5, 30, 40, 50, 100].map((p) => percentile(sorted, p))).toEqual([15, 15, 20, 20, 35, 50])
  })

  test('on 1..100 and 1..1000', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1)
    expect([50, 90, 99, 100].map((p) => percentile(hundred, p))).toEqual([50, 90, 99, 100])
    const thousand = Array.from({ length: 1000 }, (_, i) => i + 1)
    expect([50, 90, 99, 99.9].map((p) => percentile(thousand, p))).toEqual([500, 900, 990, 999])
  })

  test('one value, no values, a bad p', () => {
    expect(percentile([7], 99)).toBe(7)
    expect(percentile([], 50)).toBeNaN()
    expect(() => percentile([1], 101)).toThrow(RangeError)
  })
})

test('summarizeLatency sorts, summarizes and rounds', () => {
  expect(summarizeLatency([5, 1, 3, 2, 4])).toEqual({ count: 5, p50: 3, p90: 5, p99: 5, max: 5, mean: 3 })
  // 90 fast ones and 10 slow ones: p50 is fast, p90 still fast, p99 and max slow.
  const values = [...Array(10).fill(100), ...Array(90).fill(1.234)]
  expect(summarizeLatency(values)).toEqual({
    count: 100,
    p50: 1.23,
    p90: 1.23,
    p99: 100,
    max: 100,
    mean: 11.11,
  })
  expect(summarizeLatency([])).toEqual({ count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 })
})
