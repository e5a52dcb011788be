/** A timer that does not keep the process alive on its own. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref()
  })

/** Lets already-arrived socket events (a FIN, a RST) be processed before a client is trusted. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * Settles like `promise`, or rejects with `onTimeout()` after `ms`. The timer is cleared as soon
 * as the promise settles; it keeps the process alive only with `keepAlive` (for work someone is
 * waiting for whose own handles are unreferenced).
 */
export const withTimeout = <T>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => Error,
  keepAlive = false,
): Promise<T> =>
  // One promise and one timer: it runs for every statement, where Promise.race and finally cost
  // two more promises and their reactions.
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms)
    if (!keepAlive) timer.unref()
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
