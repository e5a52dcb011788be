/**
 * Counters for metrics: how often thaw hygiene and the retry stepped in.
 *
 * @example
 * const { retries, thaws } = createHttpResources().stats
 * metrics.addMetric('httpRetries', 'Count', retries)
 */
export interface KeepaliveStats {
  /** Invocations that started after a gap longer than `thawThresholdMs`. */
  thaws: number
  /**
   * Idle sockets (agents) and idle connections (dispatcher) dropped because they could be stale:
   * at those thaws, and when another one, idle as long, turned out to have been reset.
   */
  idleSocketsDropped: number
  /** Idle sockets closed when reused after their idle timeout had passed unnoticed (frozen timers). */
  expiredSocketsPruned: number
  /** Requests sent again on a new socket after a reset. */
  retries: number
  /**
   * Sockets destroyed at the end of an invocation because a response body on them was never read
   * (each would have stayed out of the pool for good).
   */
  unreadBodiesDestroyed: number
}

export const emptyStats = (): KeepaliveStats => ({
  thaws: 0,
  idleSocketsDropped: 0,
  expiredSocketsPruned: 0,
  retries: 0,
  unreadBodiesDestroyed: 0,
})
