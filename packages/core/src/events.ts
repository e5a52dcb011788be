import { hasChannelSubscribers, publishOnChannels } from './channels.js'
import { redact } from './secrets.js'

export type LifecycleEventType =
  | 'open'
  | 'reuse'
  | 'validate'
  | 'retry'
  | 'release'
  | 'close'
  | 'reap'
  | 'reset'
  | 'error'
  // A permit of downstream-guard: granted, refused and waited for, refused for good (the
  // invocation answered as throttled), given back, given back after its lease had expired.
  | 'acquire'
  | 'wait'
  | 'throttle'
  | 'return'
  | 'expire'

/** One thing that happened to a managed client. Never contains a secret. */
export interface LifecycleEvent {
  type: LifecycleEventType
  /** The package, e.g. `@middy-downstream/db-connection`. */
  package: string
  /** A fingerprint of the client's config, without secrets. */
  key: string
  /** The invocation it happened in (`context.awsRequestId`), when the emitter knows it. */
  awsRequestId?: string
  /** The Lambda function (`AWS_LAMBDA_FUNCTION_NAME`), filled in by `EventSink` when set. */
  functionName?: string
  /** Which client of the environment's pool. */
  clientId?: number
  durationMs?: number
  /** `retry`: the attempt that failed and how long until the next. */
  attempt?: number
  delayMs?: number
  /** `validate`/`reset`: whether it worked. */
  ok?: boolean
  /** `release`/`close`: what was decided and why (e.g. `keep`, `utilization`, `broken`, `idle`). */
  action?: string
  reason?: string
  /**
   * `reap`: how many connections were killed; `close`: how many were closed at once (default 1);
   * `acquire`: how many permits of the downstream are held, this one included.
   */
  count?: number
  /** `acquire`, `throttle`: attempts made for the permit. */
  attempts?: number
  /** `wait`, `throttle`: which limit refused the permit (`concurrency`, `rate`, `unavailable`). */
  limit?: string
  error?: { name: string; message: string; code?: string | number }
}

/** Running totals, for metrics: read them at any time, e.g. in an `after` middleware. */
export interface LifecycleCounters {
  opens: number
  reuses: number
  validations: number
  validationFailures: number
  retries: number
  releases: number
  closes: number
  reaped: number
  resets: number
  errors: number
  /** downstream-guard: permits granted, refusals waited out, throttled answers, permits given back, leases that expired before their release. */
  permitsAcquired: number
  permitWaits: number
  throttles: number
  permitsReturned: number
  leasesExpired: number
}

export const emptyCounters = (): LifecycleCounters => ({
  opens: 0,
  reuses: 0,
  validations: 0,
  validationFailures: 0,
  retries: 0,
  releases: 0,
  closes: 0,
  reaped: 0,
  resets: 0,
  errors: 0,
  permitsAcquired: 0,
  permitWaits: 0,
  throttles: 0,
  permitsReturned: 0,
  leasesExpired: 0,
})

export type EventListener = (event: LifecycleEvent) => void

/** A summary of an error that is safe to log: name, redacted message, code. */
export const describeError = (error: unknown): NonNullable<LifecycleEvent['error']> => {
  const e = error as { name?: string; message?: string; code?: string | number }
  return {
    name: e?.name ?? 'Error',
    message: redact(String(e?.message ?? error)),
    ...(e?.code === undefined ? {} : { code: e.code }),
  }
}

/**
 * Counts events and passes them to the user's listeners, and publishes them on the
 * `node:diagnostics_channel` channels `middy-downstream:lifecycle` and
 * `middy-downstream:lifecycle:<type>` when those have subscribers. A listener that throws is
 * ignored: an observer must never break an invocation (a channel subscriber that throws is Node's
 * to report, as for every channel).
 */
export class EventSink {
  readonly counters: LifecycleCounters = emptyCounters()
  private readonly listeners = new Set<EventListener>()
  /** The function every event of this environment comes from, where Lambda names it. */
  private readonly origin = process.env.AWS_LAMBDA_FUNCTION_NAME
    ? { functionName: process.env.AWS_LAMBDA_FUNCTION_NAME }
    : {}

  constructor(
    readonly packageName: string,
    readonly key: string,
  ) {}

  subscribe(listener: EventListener | undefined): void {
    if (listener) this.listeners.add(listener)
  }

  /**
   * Counts the event, hands it to the listeners and publishes it. Pass the invocation's ids
   * (`awsRequestId`, `functionName`) when it is known; otherwise `functionName` comes from
   * `AWS_LAMBDA_FUNCTION_NAME` (read when the sink is made).
   */
  emit(
    event: Omit<LifecycleEvent, 'package' | 'key'>,
    invocation?: { awsRequestId?: string; functionName?: string },
  ): void {
    this.count(event)
    const published = hasChannelSubscribers(event.type)
    // Most environments have no listener: the full event is built only for one (it runs on every
    // invocation, and the spreads were a visible share of a warm invocation's cost).
    if (this.listeners.size === 0 && !published) return
    const full: LifecycleEvent = {
      package: this.packageName,
      key: this.key,
      ...this.origin,
      ...invocation,
      ...event,
    }
    if (published) publishOnChannels(full)
    for (const listener of this.listeners) {
      try {
        listener(full)
      } catch {
        // observers never break an invocation
      }
    }
  }

  private count(event: Omit<LifecycleEvent, 'package' | 'key'>): void {
    const c = this.counters
    switch (event.type) {
      case 'open':
        c.opens += 1
        break
      case 'reuse':
        c.reuses += 1
        break
      case 'validate':
        c.validations += 1
        if (event.ok === false) c.validationFailures += 1
        break
      case 'retry':
        c.retries += 1
        break
      case 'release':
        c.releases += 1
        break
      case 'close':
        c.closes += event.count ?? 1
        break
      case 'reap':
        c.reaped += event.count ?? 0
        break
      case 'reset':
        c.resets += 1
        break
      case 'error':
        c.errors += 1
        break
      case 'acquire':
        c.permitsAcquired += 1
        break
      case 'wait':
        c.permitWaits += 1
        break
      case 'throttle':
        c.throttles += 1
        break
      case 'return':
        c.permitsReturned += 1
        break
      case 'expire':
        c.leasesExpired += 1
        break
    }
  }
}
