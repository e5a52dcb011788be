import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { http } from './builtins.js'

export interface DownstreamStandInOptions {
  /**
   * Requests it serves at once; one more is refused with 503 (an overload).
   * @default no limit
   */
  maxInFlight?: number
  /**
   * Requests it serves per second (token bucket, burst `ratePerSecond`); above: 429.
   * @default no limit
   */
  ratePerSecond?: number
  /**
   * How long serving one request takes, ms.
   * @default 20
   */
  workMs?: number
}

/** What the stand-in saw. */
export interface DownstreamCounters {
  served: number
  /** Requests refused because too many were in flight. */
  overloads: number
  /** Requests refused by the rate limit. */
  rateLimited: number
  peakInFlight: number
  /** Successful requests per item key (`?key=`), for exactly-once counting. */
  servedByKey: Map<string, number>
}

/**
 * A downstream that scales less than Lambda: an HTTP server on a private port that fails above
 * a concurrency or rate limit, as a legacy service or a quota'd API does. `POST /work?key=…`
 * answers 200 after `workMs`, or 503 / 429 at once when over a limit.
 *
 * @example
 * const downstream = await DownstreamStandIn.start({ maxInFlight: 10 })
 * await fetch(`${downstream.url}/work?key=m1`, { method: 'POST' })
 * downstream.counters.overloads // 0
 */
export class DownstreamStandIn {
  readonly counters: DownstreamCounters = {
    served: 0,
    overloads: 0,
    rateLimited: 0,
    peakInFlight: 0,
    servedByKey: new Map(),
  }
  private inFlight = 0
  private tokens: number
  private refilledAt = Date.now()

  private constructor(
    private readonly server: Server,
    private readonly options: DownstreamStandInOptions,
  ) {
    this.tokens = options.ratePerSecond ?? 0
  }

  static async start(options: DownstreamStandInOptions = {}): Promise<DownstreamStandIn> {
    let standIn: DownstreamStandIn | undefined
    const server = http().createServer((request, response) => void standIn!.handle(request, response))
    standIn = new DownstreamStandIn(server, options)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return standIn
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise((resolve) => this.server.close(resolve))
  }

  private takeToken(): boolean {
    const rate = this.options.ratePerSecond
    if (rate === undefined) return true
    const now = Date.now()
    this.tokens = Math.min(rate, this.tokens + ((now - this.refilledAt) / 1000) * rate)
    this.refilledAt = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const key = new URL(request.url ?? '/', 'http://standin').searchParams.get('key') ?? ''
    const { maxInFlight, workMs = 20 } = this.options
    if (maxInFlight !== undefined && this.inFlight >= maxInFlight) {
      this.counters.overloads += 1
      response.writeHead(503).end('overloaded')
      return
    }
    if (!this.takeToken()) {
      this.counters.rateLimited += 1
      response.writeHead(429).end('rate limited')
      return
    }
    this.inFlight += 1
    this.counters.peakInFlight = Math.max(this.counters.peakInFlight, this.inFlight)
    await delay(workMs)
    this.inFlight -= 1
    this.counters.served += 1
    this.counters.servedByKey.set(key, (this.counters.servedByKey.get(key) ?? 0) + 1)
    response.writeHead(200).end('ok')
  }
}
