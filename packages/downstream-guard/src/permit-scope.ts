import { randomUUID } from 'node:crypto'
import {
  Deadline,
  RetryGaveUp,
  remainingTimeMs,
  retryWithin,
  type ScopeHooks,
  withTimeout,
} from '@middy-downstream/core'
import type { RedisClient, RedisScope } from '@middy-downstream/redis-connection'
import { ThrottledError } from './errors.js'
import type { GuardSettings } from './options.js'
import type { AcquireAnswer, PermitKeys } from './permits.js'

/** What the handler can read about its permit, on `context.guard` (or the chosen key). */
export interface PermitInfo {
  downstream: string
  /** `held`: a lease is held; `unguarded`: Redis was unreachable and `failOpen` let it run. */
  state: 'pending' | 'held' | 'unguarded' | 'refused' | 'released'
  leaseId: string
  /** Milliseconds spent waiting for the permit. */
  waitedMs: number
}

/** A refusal, as retryWithin sees it: retryable while time remains. */
class Denied extends Error {
  constructor(readonly answer: Extract<AcquireAnswer, { granted: false }>) {
    super(`denied by ${answer.limit}`)
  }
}

/**
 * One invocation's permit: acquired before the handler (waiting with jitter while the time allows),
 * given back after it. The lease id fences the release: a lease that expired is not there any more,
 * so releasing it late touches no other holder's permit.
 */
export class PermitScope implements ScopeHooks<PermitInfo> {
  readonly handle: PermitInfo
  private redis?: RedisScope<RedisClient>

  constructor(
    private readonly settings: GuardSettings,
    private readonly keys: PermitKeys,
    private readonly context: unknown,
    private readonly deadline: Deadline,
  ) {
    this.handle = { downstream: settings.name, state: 'pending', leaseId: randomUUID(), waitedMs: 0 }
  }

  async acquire(): Promise<void> {
    const started = Date.now()
    try {
      await retryWithin(() => this.attempt(), this.waitContext(), {
        maxAttempts: Number.POSITIVE_INFINITY,
        minAttemptMs: 0,
        strategy: 'decorrelated',
        baseMs: 20,
        capMs: 500,
      })
      this.handle.state = 'held'
    } catch (error) {
      const cause = error instanceof RetryGaveUp ? error.lastError : error
      if (cause instanceof Denied) throw this.refuse(cause.answer.limit, cause.answer.retryAfterMs)
      // The call may have been granted after all: remove the lease, without waiting on a dead Redis.
      void this.forget()
      if (this.settings.failOpen) {
        this.handle.state = 'unguarded'
        return
      }
      throw this.refuse('unavailable', 1000, cause)
    } finally {
      this.handle.waitedMs = Date.now() - started
    }
  }

  async release(): Promise<void> {
    if (this.handle.state === 'held') {
      this.handle.state = 'released'
      await this.forget()
    }
    const redis = this.redis
    this.redis = undefined
    await redis?.release()
  }

  over(): boolean {
    return this.deadline.remaining() + this.settings.marginMs < 0
  }

  private waitContext() {
    const { maxWaitMs } = this.settings
    const waitEnd = Math.min(this.deadline.expiresAt, Date.now() + maxWaitMs)
    return { deadline: new Deadline(waitEnd), isRetryable: (error: unknown) => error instanceof Denied }
  }

  private async attempt(): Promise<void> {
    const answer = await this.redisCall((client) =>
      this.keys.acquire(client, this.handle.leaseId, this.leaseMs()),
    )
    if (!answer.granted) throw new Denied(answer)
  }

  /** The holder's remaining time plus the margin: a frozen or reclaimed holder's lease runs out. */
  private leaseMs(): number {
    const remaining = remainingTimeMs(this.context)
    return remaining === undefined
      ? this.settings.leaseWithoutClockMs
      : remaining + this.settings.leaseMarginMs
  }

  /**
   * Removes the lease if it is there; a failure leaves it to expire by itself. Past this
   * invocation's deadline (an early return released by the next invocation) it runs in a scope of
   * its own, bounded by `redisTimeoutMs`.
   */
  private async forget(): Promise<void> {
    const own =
      this.redis && !this.redis.deadline.expired
        ? undefined
        : this.settings.redis.begin(new Deadline(Date.now() + this.settings.redisTimeoutMs))
    try {
      const client = await (own ?? this.redis!).client()
      await this.withinTimeout(this.keys.release(client, this.handle.leaseId))
    } catch {
      // the lease expires by itself
    } finally {
      await own?.release()
    }
  }

  private async redisCall<T>(call: (client: RedisClient) => Promise<T>): Promise<T> {
    this.redis ??= this.settings.redis.begin(this.context as object | undefined)
    return this.withinTimeout(call(await this.redis.client()))
  }

  private withinTimeout<T>(call: Promise<T>): Promise<T> {
    const { redisTimeoutMs } = this.settings
    return withTimeout(
      call,
      redisTimeoutMs,
      () => new Error(`Redis did not answer within ${redisTimeoutMs} ms`),
    )
  }

  private refuse(limit: ThrottledError['limit'], retryAfterMs: number, cause?: unknown): ThrottledError {
    this.handle.state = 'refused'
    return new ThrottledError(this.settings.name, limit, retryAfterMs, cause)
  }
}
