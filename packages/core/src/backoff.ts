export type BackoffStrategy = 'full' | 'decorrelated'

export interface BackoffOptions {
  /**
   * `full`: random in [0, min(cap, base·2^attempt)]. `decorrelated`: random in [base, previous·3],
   * capped.
   * @default `'decorrelated'`
   */
  strategy?: BackoffStrategy
  /**
   * The base delay (ms): the first ceiling for `full`, the floor for `decorrelated`.
   * @default `50`
   */
  baseMs?: number
  /**
   * The largest delay (ms).
   * @default `1000`
   */
  capMs?: number
  /**
   * A source of randomness in [0, 1), for tests.
   * @default `Math.random`
   */
  random?: () => number
}

/**
 * The jittered backoffs from "Exponential Backoff And Jitter" (AWS Architecture Blog): full
 * jitter and decorrelated jitter. Each call of the returned function gives the next delay.
 *
 * @example
 * const next = createBackoff({ strategy: 'decorrelated', baseMs: 50, capMs: 1000 })
 * await sleep(next())
 */
export const createBackoff = (options: BackoffOptions = {}): (() => number) => {
  const { strategy = 'decorrelated', baseMs = 50, capMs = 1000, random = Math.random } = options
  let attempt = 0
  let previous = baseMs
  return () => {
    if (strategy === 'full') {
      const ceiling = Math.min(capMs, baseMs * 2 ** attempt)
      attempt += 1
      return random() * ceiling
    }
    const next = Math.min(capMs, baseMs + random() * (previous * 3 - baseMs))
    previous = next
    return next
  }
}
