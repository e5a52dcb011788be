import { describe, expect, test } from '@jest/globals'
import { Deadline, DeadlineSet } from '../src/index.js'

describe('DeadlineSet', () => {
  test('tracks the latest deadline of the invocations using a client', () => {
    const set = new DeadlineSet()
    const soon = new Deadline(Date.now() + 100)
    const later = new Deadline(Date.now() + 1000)
    expect(set.latest()).toBeUndefined()
    expect(set.expired).toBe(false)
    set.add(soon)
    set.add(later)
    set.add(later)
    expect(set.size).toBe(3)
    expect(set.latest()).toBe(later)
    set.delete(later)
    expect(set.latest()).toBe(later)
    set.delete(later)
    expect(set.latest()).toBe(soon)
    set.delete(soon)
    expect(set.size).toBe(0)
    set.add(new Deadline(Date.now() - 1))
    expect(set.expired).toBe(true)
  })
})
