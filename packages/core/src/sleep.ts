/** A timer that does not keep the process alive on its own. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref()
  })

/** Lets already-arrived socket events (a FIN, a RST) be processed before a client is trusted. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * Runs a callback-style operation as one promise, or rejects with `onTimeout()` after `ms`:
 * `start(resolve, reject)` begins it (a throw rejects). A driver's callback API through this costs
 * one promise per statement, where its promise API and a timeout around it cost three. The timer
 * is cleared as soon as the operation settles; it keeps the process alive only with `keepAlive`
 * (for work someone is waiting for whose own handles are unreferenced).
 *
 * @example
 * settleWithin((resolve, reject) => conn.query(sql, (e, rows) => (e ? reject(e) : resolve(rows))), 5_000, timedOut)
 */
export const settleWithin = <T>(
  start: (resolve: (value: T) => void, reject: (error: unknown) => void) => void,
  ms: number,
  onTimeout: () => Error,
  keepAlive = false,
): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms)
    if (!keepAlive) timer.unref()
    const fail = (error: unknown) => {
      clearTimeout(timer)
      reject(error)
    }
    try {
      start((value) => {
        clearTimeout(timer)
        resolve(value)
      }, fail)
    } catch (error) {
      fail(error)
    }
  })

/** Settles like `promise`, or rejects with `onTimeout()` after `ms` (see `settleWithin`). */
export const withTimeout = <T>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => Error,
  keepAlive = false,
): Promise<T> => settleWithin((resolve, reject) => promise.then(resolve, reject), ms, onTimeout, keepAlive)
