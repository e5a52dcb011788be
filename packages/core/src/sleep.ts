/** A timer that does not keep the process alive on its own. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref()
  })

/** Lets already-arrived socket events (a FIN, a RST) be processed before a client is trusted. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** What runs as an operation settles, before its promise does (see `settleWithin`). */
export interface SettleHooks {
  /** Called once, when the operation answered, failed or timed out: e.g. `Scope.use`'s `settled`. */
  settled?: () => void
}

/**
 * Runs a callback-style operation as one promise, or rejects with `onTimeout()` after `ms`:
 * `start(resolve, reject)` begins it (a throw rejects). A driver's callback API through this costs
 * one promise per statement, where its promise API and a timeout around it cost three; `hooks`
 * let the layer above (the scope's in-flight count) act inside it rather than through a promise
 * of its own. The first answer, failure or timeout settles it. The timer is cleared as soon as the
 * operation settles; it keeps the process alive only with `keepAlive` (for work someone is waiting
 * for whose own handles are unreferenced).
 *
 * @example
 * settleWithin((resolve, reject) => conn.query(sql, (e, rows) => (e ? reject(e) : resolve(rows))), 5_000, timedOut)
 */
export const settleWithin = <T>(
  start: (resolve: (value: T) => void, reject: (error: unknown) => void) => void,
  ms: number,
  onTimeout: () => Error,
  keepAlive = false,
  hooks?: SettleHooks,
): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    let open = true
    const settle = (): boolean => {
      if (!open) return false
      open = false
      clearTimeout(timer)
      hooks?.settled?.()
      return true
    }
    const succeed = (value: T) => settle() && resolve(value)
    const fail = (error: unknown) => settle() && reject(error)
    const timer = setTimeout(() => fail(onTimeout()), ms)
    if (!keepAlive) timer.unref()
    try {
      start(succeed, fail)
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

/**
 * Runs `hooks` (see `SettleHooks`) as a promise-returning operation settles, for a driver with no
 * callback API (an SDK client): the same contract as `settleWithin`'s, at the cost of a promise.
 */
export const withHooks = <T>(promise: Promise<T>, hooks?: SettleHooks): Promise<T> => {
  const settled = hooks?.settled
  return settled === undefined ? promise : promise.finally(settled)
}
