import { Deadline, type EventSink, ReleasedError, type ScopeHooks, withTimeout } from '@middy-downstream/core'
import type { RedisClient, RedisScope } from '@middy-downstream/redis-connection'
import { type GuardSettings, packageName } from './options.js'
import { Permit, type PermitOwner } from './permit.js'
import type { PermitKeys } from './permits.js'

/** What the handler can read about its permit, on `context.guard` (or the chosen key). */
export interface PermitInfo {
  downstream: string
  /**
   * `held`: a lease is held; `unguarded`: Redis was unreachable and `failOpen` let it run;
   * `refused`: no permit in time; `released`: given back. With `lazy`, the latest block's permit
   * (`pending` before the first block).
   */
  state: 'pending' | 'held' | 'unguarded' | 'refused' | 'released'
  leaseId: string
  /** Milliseconds spent waiting for the permit (with `lazy`: for every block of the invocation). */
  waitedMs: number
  /**
   * Runs `block` holding a permit and gives it back when the block settles, on every path (a
   * throw, an early return, the invocation's end). With `lazy: true` each call takes a permit of
   * its own, waiting as the options say, and throws a `ThrottledError` without one; otherwise the
   * invocation already holds its permit and the block just runs.
   */
  run<T>(block: () => Promise<T> | T): Promise<T>
}

/**
 * One invocation's claim on the downstream: with `lazy` off, one permit acquired before the
 * handler; with `lazy` on, a permit per `run` block. Every permit still held when the invocation
 * ends (a block still running at the deadline, an early return) is given back then.
 */
export class PermitScope implements ScopeHooks<PermitInfo>, PermitOwner {
  readonly handle: PermitInfo
  private redis?: RedisScope<RedisClient>
  private readonly held = new Set<Permit>()
  private released = false

  constructor(
    readonly settings: GuardSettings,
    readonly keys: PermitKeys,
    readonly events: EventSink,
    readonly context: unknown,
    readonly deadline: Deadline,
    readonly ids: { awsRequestId?: string; functionName?: string },
  ) {
    this.handle = {
      downstream: settings.name,
      state: 'pending',
      leaseId: '',
      waitedMs: 0,
      run: (block) => this.run(block),
    }
  }

  /** The invocation's permit, before the handler (`lazy` off). */
  async acquire(): Promise<void> {
    await this.take()
  }

  async release(): Promise<void> {
    this.released = true
    await Promise.all([...this.held].map((permit) => this.giveBack(permit)))
    const redis = this.redis
    this.redis = undefined
    await redis?.release()
  }

  async redisCall<T>(call: (client: RedisClient) => Promise<T>): Promise<T> {
    this.redis ??= this.settings.redis.begin(this.context as object | undefined)
    return this.withinTimeout(call(await this.redis.client()))
  }

  /**
   * Removes the lease if it is there; a failure leaves it to expire by itself. Past this
   * invocation's deadline (an early return released by the next invocation) it runs in a scope of
   * its own, bounded by `redisTimeoutMs`.
   */
  async forget(leaseId: string): Promise<boolean | Error> {
    const own =
      this.redis && !this.redis.deadline.expired
        ? undefined
        : this.settings.redis.begin(new Deadline(Date.now() + this.settings.redisTimeoutMs))
    try {
      const client = await (own ?? this.redis!).client()
      return await this.withinTimeout(this.keys.release(client, leaseId))
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error)) // the lease expires by itself
    } finally {
      await own?.release()
    }
  }

  private async run<T>(block: () => Promise<T> | T): Promise<T> {
    if (this.released) {
      throw new ReleasedError(
        `${packageName}: guard.run was called after the invocation ended; call it inside the handler`,
        { package: packageName },
      )
    }
    if (!this.settings.lazy) return block()
    const permit = await this.take()
    try {
      return await block()
    } finally {
      await this.giveBack(permit)
    }
  }

  /** Takes a permit and shows it on the handle; a refusal is shown there too, then thrown. */
  private async take(): Promise<Permit> {
    const permit = new Permit(this)
    this.handle.leaseId = permit.leaseId
    this.handle.state = 'pending'
    try {
      await permit.acquire()
      if (permit.state === 'held') this.held.add(permit)
      // The invocation ended while this block waited (a timeout): the permit goes back at once.
      if (this.released) {
        await this.giveBack(permit)
        throw new ReleasedError(`${packageName}: the invocation ended while guard.run waited for a permit`, {
          package: packageName,
        })
      }
      return permit
    } finally {
      this.handle.state = permit.state
      this.handle.waitedMs += permit.waitedMs
    }
  }

  private async giveBack(permit: Permit): Promise<void> {
    if (!this.held.delete(permit)) return
    await permit.release()
    if (this.handle.leaseId === permit.leaseId) this.handle.state = permit.state
  }

  private withinTimeout<T>(call: Promise<T>): Promise<T> {
    const { redisTimeoutMs } = this.settings
    return withTimeout(
      call,
      redisTimeoutMs,
      () => new Error(`Redis did not answer within ${redisTimeoutMs} ms`),
    )
  }
}
