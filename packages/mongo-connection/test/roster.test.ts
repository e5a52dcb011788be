import { describe, expect, test } from '@jest/globals'
import { Roster } from '../src/roster.js'

describe('Roster', () => {
  test('keeps members in insertion order and removes any of them once', () => {
    const roster = new Roster<string>()
    const a = roster.add('a')
    const b = roster.add('b')
    const c = roster.add('c')
    expect(roster.values()).toEqual(['a', 'b', 'c'])
    roster.delete(b)
    roster.delete(b)
    expect(roster.values()).toEqual(['a', 'c'])
    expect(roster.size).toBe(2)
    roster.delete(a)
    expect(roster.values()).toEqual(['c'])
    roster.add('d')
    roster.delete(c)
    expect(roster.values()).toEqual(['d'])
    expect(roster.size).toBe(1)
  })

  test('values() is a copy: members may leave while it is iterated', () => {
    const roster = new Roster<number>()
    const entries = [1, 2, 3].map((n) => roster.add(n))
    const seen: number[] = []
    for (const value of roster.values()) {
      seen.push(value)
      for (const entry of entries) roster.delete(entry)
    }
    expect(seen).toEqual([1, 2, 3])
    expect(roster.size).toBe(0)
    expect(roster.values()).toEqual([])
  })
})
