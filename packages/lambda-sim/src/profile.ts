/** Which invocation an event function is called for: its phase's index and its index there. */
export interface EventInfo {
  phase: number
  index: number
}

/**
 * The event of an invocation: a value sent as it is, or a function called once per invocation.
 * (`unknown` would swallow the function form, leaving its parameter untyped under `strict`.)
 *
 * @example
 * const fixed: EventSource = { id: 1 }
 * const perInvocation: EventSource = ({ phase, index }) => ({ id: phase * 1000 + index })
 */
export type EventSource = ((info: EventInfo) => unknown) | string | number | boolean | null | object

/**
 * One phase of a traffic profile. Its steps run in this order, each only when given:
 * 1. `reap`: abandon that fraction (0–1) of the idle environments, least recently used first;
 * 2. `pauseMs`: wait, with no traffic (frozen environments stay frozen);
 * 3. `invocations` delivered by `concurrency` callers, each sending its next invocation as soon as
 *    its previous one returns (a closed loop), so at most `concurrency` are in flight.
 *
 * @example
 * const burst: Phase = { name: 'burst', concurrency: 40, invocations: 200 }
 * const pause: Phase = { pauseMs: 3000, reap: 0.5 }
 */
export interface Phase {
  /** Shown in progress reports and the results table. */
  name?: string
  /** Parallel callers. Default 1. */
  concurrency?: number
  /** Invocations in this phase. Default 0. */
  invocations?: number
  /**
   * The event for this phase's invocations, overriding the fleet's `event`; a function is called
   * once per invocation with `{ phase, index }`.
   */
  event?: EventSource
  /** A pause with no traffic, in ms. */
  pauseMs?: number
  /** The fraction (0–1) of idle environments to abandon, as Lambda reclaims idle environments. */
  reap?: number
}

/**
 * A traffic profile: phases run one after the other.
 *
 * @example
 * const profile: Profile = [
 *   { concurrency: 40, invocations: 200 },
 *   { pauseMs: 3000, reap: 0.5 },
 *   { concurrency: 40, invocations: 200 },
 * ]
 */
export type Profile = readonly Phase[]

const known = new Set(['name', 'concurrency', 'invocations', 'event', 'pauseMs', 'reap'])

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const checkInteger = (where: string, name: string, value: unknown, min: number): void => {
  if (value !== undefined && !(Number.isInteger(value) && (value as number) >= min))
    throw new TypeError(`${where}: ${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`)
}

/**
 * Checks a profile (e.g. parsed from a JSON file) and returns its phases: an array of phases or
 * `{ phases: [...] }`. Throws a `TypeError` naming the phase and the field that is wrong, and
 * rejects unknown fields so a typo does not silently do nothing.
 *
 * @example
 * const phases = parseProfile(JSON.parse(readFileSync('profile.json', 'utf8')))
 * parseProfile([{ concurrency: 0, invocations: 5 }]) // TypeError: phase 0: concurrency must be an integer >= 1, got 0
 */
export const parseProfile = (input: unknown): Phase[] => {
  const phases = isObject(input) && 'phases' in input ? input.phases : input
  if (!Array.isArray(phases) || phases.length === 0)
    throw new TypeError('profile: expected a non-empty array of phases (or { "phases": [...] })')
  return phases.map((phase: unknown, index) => {
    const where = `phase ${index}`
    if (!isObject(phase)) throw new TypeError(`${where}: expected an object, got ${JSON.stringify(phase)}`)
    for (const key of Object.keys(phase))
      if (!known.has(key))
        throw new TypeError(`${where}: unknown field "${key}" (known: ${[...known].join(', ')})`)
    if (phase.name !== undefined && typeof phase.name !== 'string')
      throw new TypeError(`${where}: name must be a string`)
    checkInteger(where, 'concurrency', phase.concurrency, 1)
    checkInteger(where, 'invocations', phase.invocations, 0)
    if (phase.concurrency !== undefined && phase.invocations === undefined)
      throw new TypeError(`${where}: concurrency is given without invocations`)
    if (phase.pauseMs !== undefined && !(typeof phase.pauseMs === 'number' && phase.pauseMs >= 0))
      throw new TypeError(`${where}: pauseMs must be a number >= 0, got ${JSON.stringify(phase.pauseMs)}`)
    if (phase.reap !== undefined && !(typeof phase.reap === 'number' && phase.reap >= 0 && phase.reap <= 1))
      throw new TypeError(
        `${where}: reap must be a fraction between 0 and 1, got ${JSON.stringify(phase.reap)}`,
      )
    return phase as Phase
  })
}

/**
 * A short description of a phase, for progress lines and tables.
 *
 * @example
 * describePhase({ concurrency: 40, invocations: 200 }) // '200 invocations at concurrency 40'
 * describePhase({ pauseMs: 3000, reap: 0.5 }) // 'reap 50%, pause 3000 ms'
 */
export const describePhase = (phase: Phase): string => {
  const parts: string[] = []
  if (phase.reap !== undefined) parts.push(`reap ${Math.round(phase.reap * 100)}%`)
  if (phase.pauseMs !== undefined) parts.push(`pause ${phase.pauseMs} ms`)
  if (phase.invocations)
    parts.push(`${phase.invocations} invocations at concurrency ${phase.concurrency ?? 1}`)
  return parts.join(', ') || 'nothing'
}
