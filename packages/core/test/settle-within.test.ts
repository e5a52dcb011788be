import { afterEach, describe, expect, jest, test } from '@jest/globals'
import { settleWithin, withTimeout } from '../src/index.js'

// The statement path of every SQL engine: one promise per statement, a timer that never outlives
// the operation and never holds the process.

afterEach(() => {
  jest.useRealTimers()
})

describe('settleWithin', () => {
  test("settles with the callback's value and clears its timer at once", async () => {
    jest.useFakeTimers()
    let answer: (value: string) => void = () => {}
    const pending = settleWithin<string>(
      (resolve) => {
        answer = resolve
      },
      60_000,
      () => new Error('late'),
    )
    expect(jest.getTimerCount()).toBe(1)
    answer('rows')
    await expect(pending).resolves.toBe('rows')
    expect(jest.getTimerCount()).toBe(0)
  })

  test("rejects with the callback's error, and with onTimeout() when the time is up", async () => {
    jest.useFakeTimers()
    const failed = settleWithin(
      (_resolve, reject) => reject(new Error('ER_NO_SUCH_TABLE')),
      1_000,
      () => new Error('late'),
    )
    await expect(failed).rejects.toThrow('ER_NO_SUCH_TABLE')
    const slow = settleWithin(
      () => {},
      1_000,
      () => new Error('statement timed out after 1000 ms'),
    )
    jest.advanceTimersByTime(1_000)
    await expect(slow).rejects.toThrow('statement timed out after 1000 ms')
  })

  test('a start that throws rejects, and leaves no timer behind', async () => {
    jest.useFakeTimers()
    const thrown = settleWithin(
      () => {
        throw new TypeError('Bind parameters must be array')
      },
      60_000,
      () => new Error('late'),
    )
    await expect(thrown).rejects.toThrow(TypeError)
    expect(jest.getTimerCount()).toBe(0)
  })

  test('its timer holds the process only with keepAlive', () => {
    const hasRef = (keepAlive: boolean) => {
      let timer: NodeJS.Timeout | undefined
      const realSetTimeout = globalThis.setTimeout
      const spy = jest.spyOn(globalThis, 'setTimeout').mockImplementation(((
        ...args: Parameters<typeof setTimeout>
      ) => {
        timer = realSetTimeout(...args)
        return timer
      }) as typeof setTimeout)
      let finish: (value: number) => void = () => {}
      const pending = settleWithin<number>(
        (resolve) => {
          finish = resolve
        },
        60_000,
        () => new Error('late'),
        keepAlive,
      )
      spy.mockRestore()
      const referenced = timer?.hasRef()
      finish(1)
      return pending.then(() => referenced)
    }
    return Promise.all([hasRef(false), hasRef(true)]).then((refs) => expect(refs).toEqual([false, true]))
  })
})

test('withTimeout settles like its promise, or rejects with onTimeout() after ms', async () => {
  await expect(withTimeout(Promise.resolve(42), 60_000, () => new Error('late'))).resolves.toBe(42)
  jest.useFakeTimers()
  const never = withTimeout(new Promise(() => {}), 500, () => new Error('timed out after 500 ms'))
  jest.advanceTimersByTime(500)
  await expect(never).rejects.toThrow('timed out after 500 ms')
})

describe('settleWithin hooks: the layer above acts inside the one promise', () => {
  test('settled runs once as the operation answers, before its promise settles; a late answer is ignored', async () => {
    jest.useFakeTimers()
    const log: string[] = []
    let answer: (value: string) => void = () => {}
    const pending = settleWithin<string>(
      (resolve) => {
        answer = resolve
      },
      1_000,
      () => new Error('late'),
      false,
      { settled: () => log.push('settled') },
    )
    answer('rows')
    log.push('answered')
    answer('again')
    await expect(pending).resolves.toBe('rows')
    expect(log).toEqual(['settled', 'answered'])
    const timedOut = settleWithin(
      () => {},
      1_000,
      () => new Error('late'),
      false,
      { settled: () => log.push('settled at the timeout') },
    )
    jest.advanceTimersByTime(1_000)
    await expect(timedOut).rejects.toThrow('late')
    expect(log).toEqual(['settled', 'answered', 'settled at the timeout'])
  })

  test('settled runs when start throws too, and the promise rejects with the throw', async () => {
    const log: string[] = []
    const thrown = settleWithin(
      () => {
        throw new TypeError('bad values')
      },
      60_000,
      () => new Error('late'),
      false,
      { settled: () => log.push('settled') },
    )
    await expect(thrown).rejects.toThrow(new TypeError('bad values'))
    expect(log).toEqual(['settled'])
  })
})
