import type { Sample } from './results.js'

/**
 * Reads one figure for the time series, e.g. the server's open connections. It gets the fleet's
 * state at that instant, so a sampler can also chart the fleet itself.
 *
 * @example
 * const samplers: Record<string, Sampler> = {
 *   connections: async () => Number((await db.query("SHOW STATUS LIKE 'Threads_connected'"))[0].Value),
 *   environments: (fleet) => fleet.environments,
 * }
 */
export type Sampler<State = unknown> = (state: State) => number | Promise<number>

/**
 * Calls every sampler at a fixed cadence from `start` to `stop`, one round at a time: a round that
 * is still running when the next is due makes that one skip, so slow samplers never pile up. A
 * round is always taken at the start and at the stop.
 */
export class SeriesRecorder<State> {
  readonly samples: Sample[] = []
  private startedAt = 0
  private timer: NodeJS.Timeout | undefined
  private round: Promise<void> | undefined
  private stopped = false

  constructor(
    private readonly samplers: Readonly<Record<string, Sampler<State>>>,
    private readonly everyMs: number,
    private readonly state: () => State,
  ) {}

  private get enabled(): boolean {
    return Object.keys(this.samplers).length > 0
  }

  start(startedAt = performance.now()): void {
    this.startedAt = startedAt
    if (!this.enabled) return
    this.tick()
  }

  async stop(): Promise<Sample[]> {
    if (this.stopped || !this.enabled) {
      this.stopped = true
      return this.samples
    }
    this.stopped = true
    clearTimeout(this.timer)
    await this.round
    await this.take()
    return this.samples
  }

  private tick(): void {
    this.round = this.take()
    void this.round.then(() => {
      if (this.stopped) return
      const elapsed = performance.now() - this.startedAt
      // The next multiple of everyMs still ahead: a late round skips the ones it overran.
      const next = (Math.floor(elapsed / this.everyMs) + 1) * this.everyMs
      this.timer = setTimeout(() => this.tick(), next - elapsed)
      this.timer.unref()
    })
  }

  private async take(): Promise<void> {
    const t = Math.round(performance.now() - this.startedAt)
    const state = this.state()
    const entries = await Promise.all(
      Object.entries(this.samplers).map(async ([name, sampler]): Promise<[string, number | null]> => {
        try {
          const value = await sampler(state)
          return [name, typeof value === 'number' ? value : null]
        } catch {
          return [name, null]
        }
      }),
    )
    this.samples.push({ t, values: Object.fromEntries(entries) })
  }
}
