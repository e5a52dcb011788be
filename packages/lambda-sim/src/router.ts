import { type EnvironmentOptions, LambdaEnvironment } from './environment.js'

/** How an invocation ended, as far as its environment is concerned. */
export type ReleaseOutcome = 'ok' | 'timeout' | 'lost'

/**
 * One environment as the router sees it: starting (its init in progress), ready, retiring (takes
 * no new work, closed once idle) or gone.
 */
export class PooledEnvironment {
  status: 'starting' | 'ready' | 'retiring' | 'gone' = 'starting'
  environment: LambdaEnvironment | undefined
  /** Invocations assigned to it and not yet released. */
  reserved = 0
  /** Larger is more recent. */
  lastUsed = 0
  readonly ready: Promise<LambdaEnvironment>

  constructor(
    readonly id: number,
    start: () => Promise<LambdaEnvironment>,
  ) {
    this.ready = start().then((environment) => {
      this.environment = environment
      if (this.status === 'starting') this.status = 'ready'
      return environment
    })
    // Every lease holder awaits `ready` and handles a failed init; this only keeps it from
    // counting as unhandled when nobody is waiting.
    this.ready.catch(() => {})
  }
}

/** An environment assigned to one invocation. */
export interface Lease {
  pooled: PooledEnvironment
  /** The invocation waits for this environment's init. */
  coldStart: boolean
  /** No environment was free at the cap, so the invocation waited. */
  throttled: boolean
}

export interface RouterOptions {
  environment: EnvironmentOptions
  maxEnvironments: number
  perEnvironmentConcurrency: number
  recycleOnTimeout: boolean
}

/** What the router has done so far. */
export interface RouterCounters {
  started: number
  abandoned: number
  recycled: number
  /** Most live environments at once (reset by the fleet at the start of a run). */
  peak: number
}

/**
 * Assigns invocations to environments the way Lambda does: to an environment with a free slot
 * (one slot per environment, or several in the Managed Instances mode), preferring ready over
 * starting and then the most recently used; else to a new environment (a cold start) up to the
 * cap; else the invocation waits, first come first served, for a slot to free up.
 */
export class Router {
  readonly pool: PooledEnvironment[] = []
  readonly abandoned: LambdaEnvironment[] = []
  readonly counters: RouterCounters = { started: 0, abandoned: 0, recycled: 0, peak: 0 }
  private readonly waiters: Array<{ resolve: (lease: Lease) => void; reject: (error: Error) => void }> = []
  private readonly closing = new Set<Promise<void>>()
  private sequence = 0
  private nextId = 1
  private closed = false

  constructor(private readonly options: RouterOptions) {}

  get waiting(): number {
    return this.waiters.length
  }

  acquire(): Promise<Lease> {
    if (this.closed) return Promise.reject(new Error('the fleet is closed'))
    const lease = this.waiters.length === 0 ? this.tryLease(false) : undefined
    if (lease) return Promise.resolve(lease)
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }))
  }

  /** Starts counting the peak of live environments again from now. */
  resetPeak(): void {
    this.counters.peak = this.pool.length
  }

  /** Gives a slot back after an invocation, then serves whoever waits. */
  release(pooled: PooledEnvironment, outcome: ReleaseOutcome): void {
    pooled.reserved -= 1
    pooled.lastUsed = ++this.sequence
    const alive = pooled.environment?.alive ?? false
    if (pooled.status !== 'gone') {
      if (outcome === 'lost' || !alive) {
        this.remove(pooled)
        // An environment that never finished its init was not running, so it is not recycled.
        if (pooled.environment) this.counters.recycled += 1
        this.closeLater(pooled)
      } else if (outcome === 'timeout' && this.options.recycleOnTimeout) {
        pooled.status = 'retiring'
      }
      if (pooled.status === 'retiring' && pooled.reserved === 0) {
        this.remove(pooled)
        this.counters.recycled += 1
        this.closeLater(pooled)
      }
    }
    this.pump()
  }

  /**
   * Abandons `fraction` of the idle environments (rounded to the nearest whole one), least
   * recently used first: frozen for good and never closed, until `close`. Returns how many.
   */
  reap(fraction: number): number {
    const idle = this.pool
      .filter((pooled) => pooled.status === 'ready' && pooled.reserved === 0 && pooled.environment!.alive)
      .sort((a, b) => a.lastUsed - b.lastUsed)
    const victims = idle.slice(0, Math.round(fraction * idle.length))
    for (const pooled of victims) {
      this.remove(pooled)
      pooled.environment!.abandon()
      this.abandoned.push(pooled.environment!)
    }
    this.counters.abandoned += victims.length
    // Fewer live environments may leave room under the cap for whoever waits.
    this.pump()
    return victims.length
  }

  /** Kills every environment, abandoned ones included; waiting invocations are rejected. */
  async close(): Promise<void> {
    this.closed = true
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('the fleet is closed'))
    for (const pooled of this.pool.splice(0)) {
      pooled.status = 'gone'
      this.closeLater(pooled)
    }
    for (const environment of this.abandoned.splice(0)) this.track(environment.close())
    while (this.closing.size > 0) await Promise.all(this.closing)
  }

  private pump(): void {
    while (this.waiters.length > 0 && !this.closed) {
      const lease = this.tryLease(true)
      if (!lease) return
      this.waiters.shift()!.resolve(lease)
    }
  }

  private tryLease(throttled: boolean): Lease | undefined {
    const pooled = this.pick()
    if (pooled) {
      pooled.reserved += 1
      pooled.lastUsed = ++this.sequence
      return { pooled, coldStart: pooled.status === 'starting', throttled }
    }
    if (this.pool.length >= this.options.maxEnvironments) return undefined
    const started = new PooledEnvironment(this.nextId++, () =>
      LambdaEnvironment.start(this.options.environment),
    )
    started.reserved = 1
    started.lastUsed = ++this.sequence
    this.pool.push(started)
    this.counters.started += 1
    this.counters.peak = Math.max(this.counters.peak, this.pool.length)
    return { pooled: started, coldStart: true, throttled }
  }

  /** The environment with a free slot: ready before starting, then the most recently used. */
  private pick(): PooledEnvironment | undefined {
    let best: PooledEnvironment | undefined
    for (const pooled of [...this.pool]) {
      if (pooled.status === 'ready' && !pooled.environment!.alive) {
        // It exited while idle (killed from outside, or a crash after its last reply).
        this.remove(pooled)
        this.counters.recycled += 1
        continue
      }
      if (pooled.status === 'retiring' || pooled.reserved >= this.options.perEnvironmentConcurrency) continue
      if (
        !best ||
        (pooled.status === 'ready' && best.status === 'starting') ||
        (pooled.status === best.status && pooled.lastUsed > best.lastUsed)
      )
        best = pooled
    }
    return best
  }

  private remove(pooled: PooledEnvironment): void {
    pooled.status = 'gone'
    const index = this.pool.indexOf(pooled)
    if (index >= 0) this.pool.splice(index, 1)
  }

  private closeLater(pooled: PooledEnvironment): void {
    this.track(
      pooled.ready.then(
        (environment) => environment.close(),
        () => {},
      ),
    )
  }

  private track(closing: Promise<void>): void {
    const settled = closing.catch(() => {})
    this.closing.add(settled)
    void settled.then(() => this.closing.delete(settled))
  }
}
