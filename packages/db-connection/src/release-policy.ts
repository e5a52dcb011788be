import type { Deadline, EventSink, ReleaseDisposition } from '@middy-downstream/core'
import { describeError } from '@middy-downstream/core'
import { type CapacityOps, type CapacitySample, utilizationOf } from './engine.js'
import type { ReleasePolicy } from './options.js'

export interface AutoReleaseSettings {
  policy: ReleasePolicy
  proxy: boolean
  utilizationThreshold: number
  capacityCheckIntervalMs: number
  reapZombies: boolean
  reapMaxPerInvocation: number
  reapMinIdleSeconds: number
  user: string
  database: string | undefined
  fleet: string
}

/** Near the threshold means above this fraction of it; the sample is then re-read sooner. */
const nearFullFraction = 0.75
const nearFullRecheckMs = 1_000

/** Lambda's longest function timeout: the reaping floor when no invocation clock was seen. */
const maxFunctionTimeoutSeconds = 900

/**
 * The environment-level state of the `auto` release policy: the last capacity sample (read at an
 * interval, not every invocation), the function timeout seen so far, and whether the server shows
 * the fleet marker.
 */
export class ReleaseDecider<TConn = unknown> {
  private lastSample?: CapacitySample
  private markerVisible?: boolean
  private longestInvocationMs = 0

  constructor(
    private readonly settings: AutoReleaseSettings,
    private readonly events: EventSink,
    /** The engine's capacity reads and reaping; absent (Data API), `auto` keeps. */
    private readonly capacity: CapacityOps<TConn> | undefined,
  ) {}

  get sample(): CapacitySample | undefined {
    return this.lastSample
  }

  /** Records an invocation's remaining time at its start: the function timeout, near enough. */
  observeInvocation(remainingMs: number | undefined): void {
    if (remainingMs !== undefined && remainingMs > this.longestInvocationMs)
      this.longestInvocationMs = remainingMs
  }

  /**
   * Connections asleep at least this long cannot belong to a live invocation: no invocation lasts
   * longer than the function timeout. Two seconds on top absorb the process list's whole-second
   * rounding.
   */
  get reapFloorSeconds(): number {
    const timeoutSeconds =
      this.longestInvocationMs > 0 ? Math.ceil(this.longestInvocationMs / 1000) : maxFunctionTimeoutSeconds
    return Math.max(this.settings.reapMinIdleSeconds, timeoutSeconds + 2)
  }

  /**
   * How long the last sample stays good: the configured interval while the server is far from
   * full; at most a second once it is near the threshold, so connections kept while there was room
   * are given back soon after the server fills.
   */
  private sampleLifetimeMs(): number {
    const { utilizationThreshold, capacityCheckIntervalMs } = this.settings
    const nearFull = (this.lastSample?.utilization ?? 0) >= utilizationThreshold * nearFullFraction
    return nearFull ? Math.min(capacityCheckIntervalMs, nearFullRecheckMs) : capacityCheckIntervalMs
  }

  /**
   * Decides what happens to a healthy connection after an invocation; may reap zombies on the way.
   * `underPressure`: this invocation's connect was refused for capacity first, so the server is
   * full now whatever the last sample said.
   */
  async decide(
    connection: TConn,
    deadline: Deadline,
    underPressure = false,
  ): Promise<{ disposition: ReleaseDisposition; reason: string }> {
    const { policy, proxy, utilizationThreshold } = this.settings
    if (policy === 'keep') return { disposition: 'keep', reason: 'policy' }
    if (policy === 'close') return { disposition: 'close', reason: 'policy' }
    if (proxy) return { disposition: 'keep', reason: 'proxy' }
    if (!this.capacity) return { disposition: 'keep', reason: 'no-capacity-reads' }
    if (deadline.remaining() < 50) return { disposition: 'keep', reason: 'no-time-to-check' }
    const due =
      underPressure || !this.lastSample || Date.now() - this.lastSample.sampledAt >= this.sampleLifetimeMs()
    if (due) {
      try {
        this.lastSample = await this.capacity.sample(connection, this.settings.user, deadline.bound(1_000))
      } catch (error) {
        this.events.emit({ type: 'error', reason: 'capacity-check', error: describeError(error) })
        return { disposition: 'destroy', reason: 'capacity-check-failed' }
      }
    }
    const sample = this.lastSample!
    if (sample.utilization < utilizationThreshold) return { disposition: 'keep', reason: 'below-threshold' }
    if (due && this.settings.reapZombies) await this.reap(connection, deadline, sample)
    const stillFull =
      sample.maxConnections > 0 && sample.usedConnections / sample.maxConnections >= utilizationThreshold
    return stillFull || sample.utilization >= utilizationThreshold
      ? { disposition: 'close', reason: 'utilization' }
      : { disposition: 'keep', reason: 'reaped-below-threshold' }
  }

  private async reap(connection: TConn, deadline: Deadline, sample: CapacitySample): Promise<void> {
    const capacity = this.capacity
    if (!capacity) return
    try {
      this.markerVisible ??= await capacity.detectMarker(connection, deadline.bound(1_000))
      const killed = await capacity.reap(connection, {
        user: this.settings.user,
        database: this.settings.database,
        fleet: this.settings.fleet,
        minIdleSeconds: this.reapFloorSeconds,
        max: this.settings.reapMaxPerInvocation,
        deadline,
        events: this.events,
        markerVisible: this.markerVisible,
      })
      sample.usedConnections -= killed
      if (sample.maxUserConnections > 0) sample.userConnections -= killed
      sample.utilization = utilizationOf(sample)
    } catch (error) {
      this.events.emit({ type: 'error', reason: 'reap', error: describeError(error) })
    }
  }
}
