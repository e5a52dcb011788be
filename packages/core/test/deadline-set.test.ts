import { describe, expect, jest, test } from '@jest/globals'
import { Deadline, DeadlineGuard, DeadlineSet } from '../src/index.js'

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

/** A guard that records each deadline it fires for; `woken` settles at the first. */
const watchedGuard = () => {
  const fired: number[] = []
  let wake: () => void = () => {}
  const woken = new Promise<void>((resolve) => (wake = resolve))
  const guard = new DeadlineGuard((dueAt) => {
    fired.push(dueAt)
    wake()
  })
  return { guard, fired, woken }
}

describe('DeadlineGuard', () => {
  test('fires once, at the latest deadline of the invocations using the client', async () => {
    const { guard, fired, woken } = watchedGuard()
    const soon = new Deadline(Date.now() + 5)
    const later = new Deadline(Date.now() + 30)
    guard.enter(soon)
    guard.enter(later)
    await woken
    expect(fired).toEqual([later.expiresAt])
    guard.leave(soon)
    guard.leave(later)
  })

  test('is disarmed once every invocation left, and while one has no deadline', () => {
    const guard = new DeadlineGuard(() => {})
    const soon = new Deadline(Date.now() + 5)
    const unbounded = Deadline.none()
    guard.enter(soon)
    expect(guard.toJSON()).toEqual({ invocations: 1, armed: true })
    guard.enter(unbounded)
    expect(guard.toJSON()).toEqual({ invocations: 2, armed: false })
    guard.leave(unbounded)
    guard.leave(soon)
    expect(guard.toJSON()).toEqual({ invocations: 0, armed: false })
  })

  test('back-to-back invocations keep one timer instead of setting and clearing one each', () => {
    const guard = new DeadlineGuard(() => {})
    const setTimer = jest.spyOn(globalThis, 'setTimeout')
    const clearTimer = jest.spyOn(globalThis, 'clearTimeout')
    try {
      for (let i = 0; i < 100; i++) {
        const deadline = new Deadline(Date.now() + 60_000 + i)
        guard.enter(deadline)
        guard.leave(deadline)
      }
      expect(setTimer).toHaveBeenCalledTimes(1)
      expect(clearTimer).not.toHaveBeenCalled()
    } finally {
      setTimer.mockRestore()
      clearTimer.mockRestore()
      guard.dispose()
    }
  })

  test('a timer kept from an earlier invocation waits on for the later deadline, then fires once', async () => {
    const { guard, fired, woken } = watchedGuard()
    const earlier = new Deadline(Date.now() + 5)
    guard.enter(earlier)
    guard.leave(earlier)
    const later = new Deadline(Date.now() + 40)
    guard.enter(later)
    await woken
    expect(fired).toEqual([later.expiresAt])
    expect(later.expired).toBe(true)
    guard.leave(later)
  })

  test('the timer comes earlier when the invocation with the latest deadline leaves', async () => {
    const { guard, fired, woken } = watchedGuard()
    const soon = new Deadline(Date.now() + 10)
    const late = new Deadline(Date.now() + 600_000)
    guard.enter(soon)
    guard.enter(late)
    guard.leave(late)
    await woken
    expect(fired).toEqual([soon.expiresAt])
    guard.leave(soon)
  })
})
