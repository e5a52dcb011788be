import {
  Deadline,
  describeError,
  type EventSink,
  RetryGaveUp,
  remainingTimeMs,
  retryWithin,
} from '@middy-downstream/core'
import type { RedisClient } from '@middy-downstream/redis-connection'
import { ThrottledError } from './errors.js'
import type { GuardSettings } from './options.js'
import type { AcquireAnswer, PermitKeys } from './permits.js'

// node:crypto as its CommonJS object: its ESM namespace reads every export, webcrypto included.
const { randomUUID } = process.getBuiltinModule('node:crypto')

/** A refusal, as retryWithin sees it: retryable while time remains. */
class Denied extends Error {
  constructor(readonly answer: Extract<AcquireAnswer, { granted: false }>) {
    super(`denied by ${answer.limit}`)
  }
}

/** The shortest and longest sleep between two asks while waiting, ms. */
const baseMs = 20
const capMs = 500

/**
 * How long to sleep after a refusal. Concurrency: in proportion to how many permits must come back
 * before this caller's turn, so the head of the queue asks often and the tail rarely. Rate: until
 * this caller's permit is due. Both capped, so a waiter keeps its place in the queue.
 */
const delayAfter = (answer: Denied['answer'], random = Math.random): number => {
  const wanted = answer.limit === 'rate' ? answer.retryAfterMs + 1 : baseMs * Math.max(1, answer.behind)
  const capped = Math.min(capMs, wanted)
  return answer.limit === 'rate' ? capped : capped * (0.5 + random() / 2)
}

/** What a permit needs from the invocation it belongs to. */
export interface PermitOwner {
  settings: GuardSettings
  keys: PermitKeys
  events: EventSink
  context: unknown
  deadline: Deadline
  ids: { awsRequestId?: string; functionName?: string }
  /** Runs a call on the invocation's Redis client, within `redisTimeoutMs`. */
  redisCall<T>(call: (client: RedisClient) => Promise<T>): Promise<T>
  /**
   * Removes a lease and its place in the queue, past the deadline too: whether the lease was still
   * there, or the error when Redis failed (the lease then expires by itself). Never rejects.
   */
  forget(leaseId: string): Promise<boolean | Error>
}

/**
 * One lease: asked for (waiting in the queue while the time allows), then given back once. The
 * lease id fences the release: a lease that expired is not there any more, so releasing it late
 * touches no other holder's permit.
 */
export class Permit {
  readonly leaseId = randomUUID()
  state: 'pending' | 'held' | 'unguarded' | 'refused' | 'released' = 'pending'
  waitedMs = 0
  private heldSince = 0
  private waitUntil = Deadline.none()

  constructor(private readonly owner: PermitOwner) {}

  async acquire(): Promise<void> {
    const started = Date.now()
    let attempts = 0
    let held = 0
    let waiting = false
    const { deadline, settings } = this.owner
    this.waitUntil = new Deadline(Math.min(deadline.expiresAt, started + settings.maxWaitMs))
    try {
      await retryWithin(
        async () => {
          attempts += 1
          held = await this.attempt()
        },
        {
          deadline: this.waitUntil,
          isRetryable: (error) => error instanceof Denied,
          delayOf: (error) => delayAfter((error as Denied).answer),
          onRetry: ({ error }) => {
            if (waiting) return
            waiting = true
            this.emit({ type: 'wait', limit: (error as Denied).answer.limit })
          },
        },
        { maxAttempts: Number.POSITIVE_INFINITY, minAttemptMs: 0 },
      )
      this.state = 'held'
      this.heldSince = Date.now()
      this.waitedMs = this.heldSince - started
      this.emit({ type: 'acquire', durationMs: this.waitedMs, attempts, count: held })
    } catch (error) {
      this.waitedMs = Date.now() - started
      const refusal = await this.refused(error instanceof RetryGaveUp ? error.lastError : error, attempts)
      if (refusal) throw refusal
    }
  }

  /** Gives the permit back (once); an expired lease is reported, never anyone else's touched. */
  async release(): Promise<void> {
    if (this.state !== 'held') return
    this.state = 'released'
    const removed = await this.owner.forget(this.leaseId)
    const durationMs = Date.now() - this.heldSince
    if (removed === true) this.emit({ type: 'return', durationMs })
    if (removed === false) this.emit({ type: 'expire', durationMs, reason: 'late-release' })
    if (removed instanceof Error)
      this.emit({ type: 'error', reason: 'release', error: describeError(removed) })
  }

  /** Without a permit: the refusal to throw, or none when Redis failed and `failOpen` runs it unguarded. */
  private async refused(cause: unknown, attempts: number): Promise<ThrottledError | undefined> {
    const { settings } = this.owner
    const durationMs = this.waitedMs
    if (cause instanceof Denied) {
      await this.owner.forget(this.leaseId) // leave the queue

      const { limit, retryAfterMs } = cause.answer
      this.emit({ type: 'throttle', limit, durationMs, attempts, delayMs: retryAfterMs })
      return this.refuse(limit, retryAfterMs)
    }
    // The call may have been granted after all: remove the lease, without waiting on a failing Redis.
    void this.owner.forget(this.leaseId)
    if (settings.failOpen) {
      this.state = 'unguarded'
      this.emit({ type: 'error', reason: 'fail-open', limit: 'unavailable', error: describeError(cause) })
      return undefined
    }
    this.emit({ type: 'throttle', limit: 'unavailable', durationMs, attempts, error: describeError(cause) })
    return this.refuse('unavailable', 1000, cause)
  }

  private refuse(limit: ThrottledError['limit'], retryAfterMs: number, cause?: unknown): ThrottledError {
    this.state = 'refused'
    return new ThrottledError(this.owner.settings.name, limit, retryAfterMs, cause)
  }

  /** One ask; the permits held once granted, or a `Denied`. */
  private async attempt(): Promise<number> {
    const { keys, settings } = this.owner
    // A caller that will not ask again takes no place in the queue.
    const willWait = this.waitUntil.remaining() > 0
    const answer = await this.owner.redisCall((client) =>
      keys.acquire(client, {
        leaseId: this.leaseId,
        leaseMs: this.leaseMs(),
        staleMs: willWait ? capMs + settings.redisTimeoutMs + 1000 : 0,
      }),
    )
    if (!answer.granted) throw new Denied(answer)
    return answer.held
  }

  /** The holder's remaining time plus the margin: a frozen or reclaimed holder's lease runs out. */
  private leaseMs(): number {
    const remaining = remainingTimeMs(this.owner.context)
    const { leaseWithoutClockMs, leaseMarginMs } = this.owner.settings
    return remaining === undefined ? leaseWithoutClockMs : remaining + leaseMarginMs
  }

  private emit(event: Parameters<EventSink['emit']>[0]): void {
    this.owner.events.emit({ ...this.owner.ids, ...event })
  }
}
