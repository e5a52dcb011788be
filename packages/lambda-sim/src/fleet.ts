import { setTimeout as delay } from 'node:timers/promises'
import type { InvocationResult, LambdaEnvironment } from './environment.js'
import {
  type FleetOptions,
  type FleetState,
  type ResolvedFleetOptions,
  resolveFleetOptions,
} from './fleet-options.js'
import { describePhase, type Phase, type Profile, parseProfile } from './profile.js'
import { serializeError } from './protocol.js'
import {
  errorCode,
  type FleetResults,
  type InvocationRecord,
  type PhaseResult,
  summarizeRecords,
} from './results.js'
import { type ReleaseOutcome, Router } from './router.js'
import { SeriesRecorder } from './sampler.js'

const failure = (name: string, error: unknown): InvocationResult => ({
  ok: false,
  error: { ...serializeError(error), name },
  durationMs: 0,
})

/**
 * A fleet of simulated Lambda environments behind a router, driven by a traffic profile.
 * Each invocation goes to an idle environment if there is one (the most recently used, as
 * Lambda prefers), else to a new one (a cold start) up to `maxEnvironments`, else it waits for
 * one (counted as a throttle). Environments are frozen between invocations; a phase can reap
 * (abandon) idle ones, and later invocations start fresh environments.
 *
 * At the end of `run` every environment is killed, abandoned ones included, unless
 * `keepEnvironments` is set; then call `close()` yourself.
 *
 * @example
 * const fleet = new Fleet({ module: '/abs/handler.mjs', timeoutMs: 3000, maxEnvironments: 50 })
 * const results = await fleet.run([
 *   { concurrency: 40, invocations: 200 },
 *   { pauseMs: 3000, reap: 0.5 },
 *   { concurrency: 40, invocations: 200 },
 * ])
 * console.log(formatResults(results))
 */
export class Fleet {
  readonly options: ResolvedFleetOptions
  private readonly router: Router
  private running = false
  private closed = false
  private directInvocations = 0

  constructor(options: FleetOptions) {
    this.options = resolveFleetOptions(options)
    const { module, exportName, timeoutMs, functionName, env, freezeBetweenInvocations, output } =
      this.options
    const { perEnvironmentConcurrency: maxConcurrency, workersPerEnvironment: workers } = this.options
    this.router = new Router({
      environment: {
        module,
        exportName,
        timeoutMs,
        freezeBetweenInvocations,
        ...(functionName === undefined ? {} : { functionName }),
        // Several invocations at once in one process: the runtime's next-event request is always
        // pending there, so the runner keeps its channel referenced (see environment-runner.ts).
        ...(env === undefined && maxConcurrency <= 1
          ? {}
          : { env: { ...env, ...(maxConcurrency > 1 ? { LAMBDA_SIM_CONCURRENT: '1' } : {}) } }),
        ...(output === undefined ? {} : { output }),
        ...(workers === undefined ? {} : { managedInstances: { maxConcurrency, workers } }),
      },
      maxEnvironments: this.options.maxEnvironments,
      perEnvironmentConcurrency: this.options.perEnvironmentConcurrency,
      recycleOnTimeout: this.options.recycleOnTimeout,
    })
  }

  /** The fleet at this instant. */
  get state(): FleetState {
    let starting = 0
    let busy = 0
    let inFlight = 0
    for (const pooled of this.router.pool) {
      if (pooled.status === 'starting') starting += 1
      else if (pooled.reserved > 0) busy += 1
      inFlight += pooled.reserved
    }
    const environments = this.router.pool.length
    return {
      environments,
      starting,
      busy,
      idle: environments - starting - busy,
      inFlight,
      waiting: this.router.waiting,
      abandoned: this.router.abandoned.length,
    }
  }

  /** The live environments that have finished their init (busy or idle), oldest first. */
  get environments(): LambdaEnvironment[] {
    return this.router.pool.flatMap((pooled) => (pooled.environment ? [pooled.environment] : []))
  }

  /** Abandoned environments, frozen until the fleet closes. */
  get abandonedEnvironments(): readonly LambdaEnvironment[] {
    return this.router.abandoned
  }

  /**
   * Abandons `fraction` (0–1) of the idle environments now, least recently used first; returns
   * how many. A profile phase's `reap` does the same.
   */
  reap(fraction: number): number {
    if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`reap: fraction must be between 0 and 1`)
    return this.router.reap(fraction)
  }

  /** Runs the profile's phases one after the other and returns the results. */
  async run(profile: Profile): Promise<FleetResults> {
    const phases = parseProfile(profile)
    if (this.closed) throw new Error('Fleet: run() after close()')
    if (this.running) throw new Error('Fleet: run() is already in progress')
    this.running = true
    const startedAt = performance.now()
    const records: InvocationRecord[] = []
    const phaseResults: PhaseResult[] = []
    this.router.resetPeak()
    const counters = { ...this.router.counters }
    const series = new SeriesRecorder(
      this.options.samplers ?? {},
      this.options.sampleEveryMs,
      () => this.state,
    )
    series.start(startedAt)
    try {
      for (const [index, phase] of phases.entries()) {
        if (this.closed) break
        await this.options.beforePhase?.({ phase, index, fleet: this })
        const result = await this.runPhase(phase, index, records)
        phaseResults.push(result)
        await this.options.afterPhase?.({ phase, index, fleet: this, result })
      }
      const samples = await series.stop()
      const end = this.router.counters
      return {
        ...summarizeRecords(records),
        environmentsStarted: end.started - counters.started,
        environmentsAbandoned: end.abandoned - counters.abandoned,
        environmentsRecycled: end.recycled - counters.recycled,
        peakEnvironments: end.peak,
        durationMs: Math.round(performance.now() - startedAt),
        phases: phaseResults,
        samples,
      }
    } finally {
      await series.stop()
      this.running = false
      if (!this.options.keepEnvironments) await this.close()
    }
  }

  /** Kills every environment, abandoned ones included. */
  /**
   * One invocation outside any profile, routed like a profile's (a queue source's poller calls
   * this): resolves with its record, the handler's value included. Its `phase` is -1.
   *
   * @example
   * const record = await fleet.invoke({ Records: [...] })
   * if (record.ok) console.log(record.value)
   */
  async invoke(event: unknown): Promise<InvocationRecord> {
    const { record, value } = await this.invokeOne(event, -1, this.directInvocations++)
    return value === undefined ? record : { ...record, value }
  }

  async close(): Promise<void> {
    this.closed = true
    await this.router.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  private async runPhase(phase: Phase, index: number, records: InvocationRecord[]): Promise<PhaseResult> {
    const startedAt = performance.now()
    const before = { ...this.router.counters }
    if (phase.reap !== undefined) this.router.reap(phase.reap)
    if (phase.pauseMs) await delay(phase.pauseMs)
    const total = phase.invocations ?? 0
    const mine: InvocationRecord[] = []
    if (total > 0) {
      const progress = { phase: index, ...(phase.name === undefined ? {} : { name: phase.name }), total }
      let issued = 0
      let failures = 0
      this.options.onProgress?.({ ...progress, done: 0, failures })
      const caller = async () => {
        while (issued < total && !this.closed) {
          const invocation = issued++
          const { record } = await this.invokeOne(this.eventFor(phase, index, invocation), index, invocation)
          mine.push(record)
          records.push(record)
          if (!record.ok) failures += 1
          this.options.onProgress?.({ ...progress, done: mine.length, failures })
        }
      }
      await Promise.all(Array.from({ length: Math.min(phase.concurrency ?? 1, total) }, caller))
    }
    const after = this.router.counters
    return {
      index,
      ...(phase.name === undefined ? {} : { name: phase.name }),
      description: describePhase(phase),
      ...summarizeRecords(mine),
      environmentsStarted: after.started - before.started,
      environmentsAbandoned: after.abandoned - before.abandoned,
      environmentsRecycled: after.recycled - before.recycled,
      durationMs: Math.round(performance.now() - startedAt),
    }
  }

  /** A phase's event, else the fleet's: a function is called for this invocation. */
  private eventFor(phase: Phase, phaseIndex: number, index: number): unknown {
    const source = phase.event !== undefined ? phase.event : this.options.event
    return typeof source === 'function' ? source({ phase: phaseIndex, index }) : (source ?? {})
  }

  private async invokeOne(
    event: unknown,
    phaseIndex: number,
    index: number,
  ): Promise<{ record: InvocationRecord; value?: unknown }> {
    const issuedAt = performance.now()
    const lease = await this.router.acquire()
    const { environment, result } = await this.deliver(lease.pooled.ready, event)
    const outcome: ReleaseOutcome = !environment?.alive ? 'lost' : result.timedOut ? 'timeout' : 'ok'
    this.router.release(lease.pooled, outcome)
    const record: InvocationRecord = {
      phase: phaseIndex,
      index,
      environment: lease.pooled.id,
      ...(environment ? { pid: environment.pid } : {}),
      ok: result.ok,
      timedOut: result.timedOut ?? false,
      coldStart: lease.coldStart,
      throttled: lease.throttled,
      latencyMs: performance.now() - issuedAt,
      durationMs: result.durationMs,
    }
    if (!result.ok) {
      record.error = result.error ?? { name: 'Error', message: 'the invocation failed' }
      record.code = errorCode(record.error)
    }
    const value = result.ok ? { value: result.value } : {}
    this.options.onInvocation?.({ ...record, ...value })
    return { record, ...value }
  }

  /** Waits for the environment's init, then invokes it; a failed init or a dead process is a failure. */
  private async deliver(
    ready: Promise<LambdaEnvironment>,
    event: unknown,
  ): Promise<{ environment?: LambdaEnvironment; result: InvocationResult }> {
    let environment: LambdaEnvironment
    try {
      environment = await ready
    } catch (error) {
      return { result: failure('InitError', error) }
    }
    try {
      return { environment, result: await environment.invoke(event) }
    } catch (error) {
      return { environment, result: failure('EnvironmentExited', error) }
    }
  }
}

/**
 * Runs a profile on a new fleet and closes it: `new Fleet(options).run(options.profile)`.
 *
 * @example
 * const results = await runFleet({
 *   module: '/abs/handler.mjs',
 *   maxEnvironments: 20,
 *   profile: [{ concurrency: 10, invocations: 100 }],
 *   samplers: { environments: (state) => state.environments },
 * })
 * console.log(formatResults(results))
 */
export const runFleet = (options: FleetOptions & { profile: Profile }): Promise<FleetResults> => {
  const { profile, ...fleetOptions } = options
  return new Fleet({ ...fleetOptions, keepEnvironments: false }).run(profile)
}
