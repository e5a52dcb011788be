import type { Deadline, EventSink, ReleaseDisposition } from '@middy-downstream/core'
import { describeError, warnOnce } from '@middy-downstream/core'
import { type Attribution, type CapacityOps, type CapacitySample, utilizationOf } from './engine.js'
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

/** What happens to a healthy connection after an invocation, and why (the `release` event's reason). */
export interface ReleaseDecision {
  disposition: ReleaseDisposition
  reason: string
}

/** Near the threshold means above this fraction of it; the sample is then re-read sooner. */
const nearFullFraction = 0.75
const nearFullRecheckMs = 1_000

/**
 * The environment-level state of the `auto` release policy: the last capacity sample (read at an
 * interval, not every invocation), and whether the server attributes connections to their owners.
 */
export class ReleaseDecider<TConn = unknown> {
  private lastSample?: CapacitySample
  /** Settled once the server answered; `unknown` is never kept, so the server is asked again. */
  private attribution?: Exclude<Attribution, 'unknown'>
  /** The last pass said no connection of the fleet can be a zombie before then. */
  private quietUntil = 0

  constructor(
    private readonly settings: AutoReleaseSettings,
    private readonly events: EventSink,
    /** The engine's capacity reads and reaping; absent (Data API), `auto` keeps. */
    private readonly capacity: CapacityOps<TConn> | undefined,
    /** The engine's package, for the one-time warning. */
    private readonly packageName: string,
  ) {}

  get sample(): CapacitySample | undefined {
    return this.lastSample
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
   * The decision when it needs no statement on the connection, which is most invocations: a policy
   * that never looks at the server, or a capacity sample still fresh. `undefined`: call `decide`.
   * `underPressure`: this invocation's connect was refused for capacity first, so the server is
   * full now whatever the last sample said.
   */
  decideNow(deadline: Deadline, underPressure = false): ReleaseDecision | undefined {
    const { policy, proxy, utilizationThreshold } = this.settings
    if (policy === 'keep') return { disposition: 'keep', reason: 'policy' }
    if (policy === 'close') return { disposition: 'close', reason: 'policy' }
    if (proxy) return { disposition: 'keep', reason: 'proxy' }
    if (!this.capacity) return { disposition: 'keep', reason: 'no-capacity-reads' }
    if (deadline.remaining() < 50) return { disposition: 'keep', reason: 'no-time-to-check' }
    if (underPressure || this.sampleDue()) return undefined
    return this.lastSample!.utilization < utilizationThreshold
      ? { disposition: 'keep', reason: 'below-threshold' }
      : { disposition: 'close', reason: 'utilization' }
  }

  /**
   * Decides what happens to a healthy connection after an invocation; may read the server's
   * capacity and reap zombies on the way. Same arguments as `decideNow`.
   */
  async decide(connection: TConn, deadline: Deadline, underPressure = false): Promise<ReleaseDecision> {
    const now = this.decideNow(deadline, underPressure)
    if (now) return now
    const { utilizationThreshold } = this.settings
    // This invocation's connect was refused for capacity a moment ago: the server is full, which a
    // read would only confirm (in a storm most releases are such, and the reads add up).
    if (underPressure) {
      if (this.settings.reapZombies) await this.reap(connection, deadline)
      return { disposition: 'close', reason: 'refused-at-connect' }
    }
    let sample: CapacitySample
    try {
      sample = await this.capacity!.sample(connection, this.settings.user, deadline.bound(1_000))
      this.lastSample = sample
    } catch (error) {
      this.events.emit({ type: 'error', reason: 'capacity-check', error: describeError(error) })
      return { disposition: 'destroy', reason: 'capacity-check-failed' }
    }
    if (sample.utilization < utilizationThreshold) return { disposition: 'keep', reason: 'below-threshold' }
    if (this.settings.reapZombies) await this.reap(connection, deadline, sample)
    const stillFull =
      sample.maxConnections > 0 && sample.usedConnections / sample.maxConnections >= utilizationThreshold
    return stillFull || sample.utilization >= utilizationThreshold
      ? { disposition: 'close', reason: 'utilization' }
      : { disposition: 'keep', reason: 'reaped-below-threshold' }
  }

  /** The last capacity sample is missing or older than its lifetime. */
  private sampleDue(): boolean {
    return !this.lastSample || Date.now() - this.lastSample.sampledAt >= this.sampleLifetimeMs()
  }

  /**
   * Kills zombies only where the server attributes connections to their owners. Where it cannot
   * (no readable performance_schema), a connection of another application or of another
   * function's live invocation cannot be told from a zombie, so nothing is killed; while the
   * answer is unknown (the probe failed), nothing is killed either.
   */
  private async reap(connection: TConn, deadline: Deadline, sample?: CapacitySample): Promise<void> {
    const capacity = this.capacity
    if (!capacity || this.settings.reapMaxPerInvocation <= 0) return
    if (this.attribution === 'unattributed') {
      this.events.emit({ type: 'reap', count: 0, reason: 'unattributed' })
      return
    }
    if (Date.now() < this.quietUntil) return
    try {
      const result = await capacity.reap(connection, {
        user: this.settings.user,
        database: this.settings.database,
        fleet: this.settings.fleet,
        minIdleSeconds: this.settings.reapMinIdleSeconds,
        max: this.settings.reapMaxPerInvocation,
        deadline,
        events: this.events,
      })
      if (result.attribution === 'unknown') {
        this.events.emit({ type: 'reap', count: 0, reason: 'attribution-unknown' })
        return
      }
      if (this.attribution === undefined && result.attribution === 'unattributed')
        warnUnattributed(this.packageName)
      this.attribution = result.attribution
      if (result.attribution === 'unattributed') {
        this.events.emit({ type: 'reap', count: 0, reason: 'unattributed' })
        return
      }
      this.quietUntil = Date.now() + (result.quietForMs ?? 0)
      if (!sample) return
      sample.usedConnections -= result.killed
      if (sample.maxUserConnections > 0) sample.userConnections -= result.killed
      sample.utilization = utilizationOf(sample)
    } catch (error) {
      this.events.emit({ type: 'error', reason: 'reap', error: describeError(error) })
    }
  }
}

const warnUnattributed = (packageName: string) =>
  warnOnce(
    'MDD_REAP_UNATTRIBUTED',
    `${packageName}: zombie reaping is off: this server does not show connection attributes, so a zombie cannot be told from another application's connection. Turn on performance_schema and GRANT SELECT ON performance_schema.session_connect_attrs to the user (see the README, "Reaping").`,
  )
