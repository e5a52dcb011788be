import type { RedisClient } from '@middy-downstream/redis-connection'
import { acquireScript, releaseScript } from './scripts.js'

/** Which limit refused a permit; `unavailable`: Redis could not be asked. */
export type GuardLimit = 'concurrency' | 'rate' | 'unavailable'

/**
 * One answer of the acquire script. A refusal says how many waiters are served first (`ahead`)
 * and how many permits must be given back before this caller's turn (`behind`, concurrency).
 */
export type AcquireAnswer =
  | { granted: true; held: number }
  | {
      granted: false
      limit: 'concurrency' | 'rate'
      retryAfterMs: number
      held: number
      ahead: number
      behind: number
    }

/** How the caller asks: whether it will ask again (then it keeps a place in the queue). */
export interface AcquireRequest {
  leaseId: string
  leaseMs: number
  /** The caller asks again within this long, or its place in the queue goes. 0: it will not ask again. */
  staleMs: number
  /** The clock, ms (tests only); by default the Redis server's. */
  now?: number
}

/** What the script needs to know about the limits, in its own units. */
export interface PermitLimits {
  concurrency?: number
  rate?: number
  burst: number
}

type Scripted = RedisClient & {
  guardAcquire(...keysAndArgs: (string | number)[]): Promise<[number, string, number, number, number]>
  guardRelease(...keysAndArgs: string[]): Promise<number>
}

const defined = new WeakSet<object>()

/** ioredis sends the script by its SHA1 and loads it once per connection (NOSCRIPT). */
const scripted = (client: RedisClient): Scripted => {
  if (!defined.has(client)) {
    client.defineCommand('guardAcquire', { numberOfKeys: 4, lua: acquireScript })
    client.defineCommand('guardRelease', { numberOfKeys: 3, lua: releaseScript })
    defined.add(client)
  }
  return client as Scripted
}

/**
 * The Redis keys and the two operations on them: one round trip each.
 *
 * @example
 * const permits = new PermitKeys('middy-downstream:guard', 'orders-api', { concurrency: 10, burst: 1 })
 * const answer = await permits.acquire(client, { leaseId, leaseMs: 30_000, staleMs: 0 })
 */
export class PermitKeys {
  readonly leases: string
  readonly arrival: string
  readonly waiters: string
  readonly waitersSeen: string
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
    this.waiters = `${prefix}:{${name}}:waiters`
    this.waitersSeen = `${prefix}:{${name}}:waiters-seen`
    this.interval = limits.rate === undefined ? 0 : 1000 / limits.rate
    this.tolerance = this.interval * (limits.burst - 1)
  }

  async acquire(client: RedisClient, request: AcquireRequest): Promise<AcquireAnswer> {
    const [granted, limit, retryAfterMs, held, ahead] = await scripted(client).guardAcquire(
      this.leases,
      this.arrival,
      this.waiters,
      this.waitersSeen,
      request.leaseId,
      Math.ceil(request.leaseMs),
      this.limits.concurrency ?? 0,
      this.interval,
      this.tolerance,
      Math.ceil(request.staleMs),
      Math.floor(request.now ?? 0),
    )
    if (granted === 1) return { granted: true, held }
    // A held permit is usually given back long before its lease expires: for concurrency the
    // earliest expiry is only an upper bound, so the hint is capped at a second.
    const hint = limit === 'concurrency' ? Math.min(retryAfterMs, 1000) : retryAfterMs
    const behind = limit === 'concurrency' ? held + ahead - (this.limits.concurrency ?? 0) + 1 : 0
    return {
      granted: false,
      limit: limit as 'concurrency' | 'rate',
      retryAfterMs: Math.max(0, hint),
      held,
      ahead,
      behind,
    }
  }

  /**
   * Removes this lease only, and the caller's place in the queue (fencing by lease id): a lease
   * that already expired, and whose slot another holder may have now, is simply not there any
   * more. `false`: the lease had expired before this release.
   */
  async release(client: RedisClient, leaseId: string): Promise<boolean> {
    return (await scripted(client).guardRelease(this.leases, this.waiters, this.waitersSeen, leaseId)) === 1
  }
}
