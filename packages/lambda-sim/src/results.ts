import { type LatencySummary, summarizeLatency } from './percentiles.js'
import type { SerializedError } from './protocol.js'

/**
 * What the fleet knows about one finished invocation. Passed to `onInvocation`; the results
 * aggregate these.
 *
 * @example
 * onInvocation: (record) => { if (!record.ok) console.error(record.code, record.error?.message) }
 */
export interface InvocationRecord {
  /** Index of the phase in the profile. */
  phase: number
  /** Index of the invocation within its phase. */
  index: number
  /** The fleet's number for the environment that served it (1, 2, ...). */
  environment: number
  /** Its process id, when the environment started. */
  pid?: number
  ok: boolean
  /** The handler's return value (not kept in the results). */
  value?: unknown
  error?: SerializedError
  /** The failure's code: see `errorCode`. */
  code?: string
  timedOut: boolean
  /** The invocation waited for a new environment's init. */
  coldStart: boolean
  /** Every environment was busy at the cap, so it waited for one (Lambda would throttle). */
  throttled: boolean
  /** From issue to result, including any wait for an environment and its init, in ms. */
  latencyMs: number
  /** Inside the environment: the handler alone, in ms. */
  durationMs: number
}

/**
 * One time-series sample: `t` ms after the run started, one value per sampler (`null` when the
 * sampler threw).
 *
 * @example
 * // { t: 250, values: { connections: 12 } }
 * results.samples.map((s) => [s.t, s.values.connections])
 */
export interface Sample {
  t: number
  values: Record<string, number | null>
}

/**
 * What a phase and a whole run both report.
 *
 * @example
 * const totals: RunTotals = results // or results.phases[0]
 * totals.failuresByCode // { ECONNRESET: 2, TimeoutError: 1 }
 */
export interface RunTotals {
  invocations: number
  successes: number
  failures: number
  /** Failures counted by `errorCode`. */
  failuresByCode: Record<string, number>
  /** For each code in `failuresByCode`, the message of the first failure counted under it. */
  errorMessages: Record<string, string>
  latencyMs: LatencySummary
  /** Invocations that waited for a new environment's init. */
  coldStarts: number
  /** Invocations that found every environment busy at the cap and waited. */
  throttles: number
  environmentsStarted: number
  environmentsAbandoned: number
  /** Environments the fleet killed after a timeout (as Lambda resets one) or that exited on their own. */
  environmentsRecycled: number
  durationMs: number
}

/**
 * The figures of one phase.
 *
 * @example
 * for (const phase of results.phases) console.log(phase.index, phase.failures, phase.latencyMs.p99)
 */
export interface PhaseResult extends RunTotals {
  index: number
  name?: string
  /** `describePhase` of the phase. */
  description: string
}

/**
 * The figures of a whole run (the totals over its phases), plus the per-phase figures and the
 * samples.
 *
 * @example
 * const results = await runFleet({ module, profile: [{ concurrency: 10, invocations: 100 }] })
 * results.failuresByCode // { ECONNRESET: 2, TimeoutError: 1 }
 * results.latencyMs.p99
 */
export interface FleetResults extends RunTotals {
  /** Most environments alive (starting, busy or idle; not abandoned) at once. */
  peakEnvironments: number
  phases: PhaseResult[]
  samples: Sample[]
}

/**
 * The key a failure is counted under: the serialized error's `code`, else its cause's code
 * (`causeCode`), else its `name`.
 *
 * @example
 * errorCode({ name: 'Error', message: 'x', code: 'ECONNRESET' }) // 'ECONNRESET'
 * errorCode({ name: 'DownstreamError', message: 'x', causeCode: 'ER_CON_COUNT_ERROR' }) // 'ER_CON_COUNT_ERROR'
 * errorCode({ name: 'TimeoutError', message: 'Task timed out after 3000 ms' }) // 'TimeoutError'
 */
export const errorCode = (error: SerializedError | undefined): string =>
  String(error?.code ?? error?.causeCode ?? error?.name ?? 'Error')

/** The figures shared by a phase and the whole run. */
export const summarizeRecords = (records: readonly InvocationRecord[]) => {
  const failuresByCode: Record<string, number> = {}
  const errorMessages: Record<string, string> = {}
  let successes = 0
  let coldStarts = 0
  let throttles = 0
  for (const record of records) {
    if (record.ok) successes += 1
    else {
      failuresByCode[record.code!] = (failuresByCode[record.code!] ?? 0) + 1
      errorMessages[record.code!] ??= record.error?.message ?? ''
    }
    if (record.coldStart) coldStarts += 1
    if (record.throttled) throttles += 1
  }
  return {
    invocations: records.length,
    successes,
    failures: records.length - successes,
    failuresByCode,
    errorMessages,
    latencyMs: summarizeLatency(records.map((record) => record.latencyMs)),
    coldStarts,
    throttles,
  }
}
