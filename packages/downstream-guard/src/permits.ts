import type { RedisClient } from '@middy-downstream/redis-connection'
import { acquireScript } from './scripts.js'

/** Which limit refused a permit; `unavailable`: Redis could not be asked. */
export type GuardLimit = 'concurrency' | 'rate' | 'unavailable'

/** One answer of the acquire script. */
export type AcquireAnswer =
  | { granted: true; held: number }
  | { granted: false; limit: 'concurrency' | 'rate'; retryAfterMs: number; held: number }

/** What the script needs to know about the limits, in its own units. */
export interface PermitLimits {
  concurrency?: number
  rate?: number
  burst: number
}

type Scripted = RedisClient & {
  guardAcquire(
    leases: string,
    tat: string,
    ...args: (string | number)[]
  ): Promise<[number, string, number, number]>
}

const defined = new WeakSet<object>()

/** ioredis sends the script by its SHA1 and loads it once per connection (NOSCRIPT). */
const scripted = (client: RedisClient): Scripted => {
  if (!defined.has(client)) {
    client.defineCommand('guardAcquire', { numberOfKeys: 2, lua: acquireScript })
    defined.add(client)
  }
  return client as Scripted
}

/**
 * The Redis keys and the two operations on them: one round trip each.
 *
 * @example
 * const permits = new PermitKeys('middy-downstream:guard', 'orders-api', { concurrency: 10, burst: 1 })
 * const answer = await permits.acquire(client, leaseId, 30_000)
 */
export class PermitKeys {
  readonly leases: string
  readonly arrival: string
  private readonly interval: number
  private readonly tolerance: number

  constructor(
    prefix: string,
    name: string,
    private readonly limits: PermitLimits,
  ) {
    // One hash tag for both keys: a script's keys must live in one cluster slot.
    this.leases = `${prefix}:{${name}}:leases`
    this.arrival = `${prefix}:{${name}}:tat`
    this.interval = limits.rate === undefined ? 0 : 1000 / limits.rate
    this.tolerance = this.interval * (limits.burst - 1)
  }

  async acquire(client: RedisClient, leaseId: string, leaseMs: number): Promise<AcquireAnswer> {
    const [granted, limit, retryAfterMs, held] = await scripted(client).guardAcquire(
      this.leases,
      this.arrival,
      leaseId,
      Math.ceil(leaseMs),
      this.limits.concurrency ?? 0,
      this.interval,
      this.tolerance,
    )
    if (granted === 1) return { granted: true, held }
    // A held permit is usually given back long before its lease expires: for concurrency the
    // earliest expiry is only an upper bound, so the hint is capped at a second.
    const hint = limit === 'concurrency' ? Math.min(retryAfterMs, 1000) : retryAfterMs
    return { granted: false, limit: limit as 'concurrency' | 'rate', retryAfterMs: Math.max(0, hint), held }
  }

  /**
   * Removes this lease only (fencing by lease id): a lease that already expired, and whose slot
   * another holder may have now, is simply not there any more.
   */
  async release(client: RedisClient, leaseId: string): Promise<boolean> {
    return (await client.zrem(this.leases, leaseId)) === 1
  }
}
