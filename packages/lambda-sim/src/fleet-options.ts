import path from 'node:path'
import { fs } from './builtins.js'
import type { Fleet } from './fleet.js'
import type { EventSource, Phase } from './profile.js'
import type { InvocationRecord, PhaseResult } from './results.js'
import type { Sampler } from './sampler.js'

/**
 * The fleet at one instant, as samplers and `fleet.state` see it.
 *
 * @example
 * samplers: { busy: (state) => state.busy, queued: (state) => state.waiting }
 */
export interface FleetState {
  /** Live environments: starting, busy or idle (not abandoned). */
  environments: number
  starting: number
  /** Environments with at least one invocation in flight. */
  busy: number
  idle: number
  /** Invocations in flight (assigned to an environment). */
  inFlight: number
  /** Invocations waiting for an environment at the cap. */
  waiting: number
  /** Abandoned environments still frozen (until the fleet closes). */
  abandoned: number
}

/**
 * Progress of an invocation phase: reported when it starts and after each invocation.
 *
 * @example
 * onProgress: ({ phase, done, total, failures }) => process.stderr.write(`\rphase ${phase}: ${done}/${total}, ${failures} failed`)
 */
export interface FleetProgress {
  /** Index of the phase in the profile. */
  phase: number
  name?: string
  /** Invocations of this phase finished so far. */
  done: number
  total: number
  /** Failed invocations of this phase so far. */
  failures: number
}

/**
 * What a phase hook receives. `result` is given to `afterPhase` only.
 *
 * @example
 * beforePhase: ({ index }) => { if (index === 2) proxy.setMode('reset') }
 */
export interface PhaseHookInfo {
  phase: Phase
  index: number
  fleet: Fleet
  result?: PhaseResult
}

/**
 * Options of a `Fleet` (and of `runFleet`, which adds the profile).
 *
 * @example
 * const options: FleetOptions = {
 *   module: '/abs/path/handler.mjs',
 *   timeoutMs: 3000,
 *   maxEnvironments: 50,
 *   env: { DB_HOST: '127.0.0.1' },
 *   samplers: { connections: () => server.connections() },
 *   sampleEveryMs: 100,
 * }
 */
export interface FleetOptions {
  /** Path of the handler module (resolved against the working directory). */
  module: string
  /**
   * The exported handler's name.
   * @default `'handler'`
   */
  exportName?: string
  /**
   * Function timeout of each invocation, in ms.
   * @default `3000`
   */
  timeoutMs?: number
  /**
   * The function name every environment's handler sees on `context.functionName` (and in the ARN).
   * @default `'lambda-sim'`
   */
  functionName?: string
  /**
   * At most this many live environments (abandoned ones do not count).
   * @default `50`
   */
  maxEnvironments?: number
  /**
   * Extra environment variables for every environment (merged over the host's).
   * @default `{}`
   */
  env?: Record<string, string>
  /**
   * Invocations one environment serves at once: 1, as Lambda; more is the Lambda Managed Instances
   * mode, where the router fills an environment's slots before starting another.
   * @default `1`
   */
  perEnvironmentConcurrency?: number
  /**
   * Run each environment as the Node.js runtime runs Managed Instances: this many worker threads,
   * each with its own copy of the handler module, sharing `perEnvironmentConcurrency`; the timeout
   * not enforced; not frozen unless `freezeBetweenInvocations` is set.
   * @default one module instance (no worker threads)
   */
  workersPerEnvironment?: number
  /**
   * Where the handlers' stdout and stderr go: `inherit`, `stderr` or `ignore`.
   * @default `'inherit'`
   */
  output?: 'inherit' | 'stderr' | 'ignore'
  /**
   * SIGSTOP each environment whenever it has nothing in flight.
   * @default `true`
   */
  freezeBetweenInvocations?: boolean
  /**
   * Kill an environment after one of its invocations timed out (once nothing else is in flight in
   * it), as Lambda resets the environment after a timeout.
   * @default `true`
   */
  recycleOnTimeout?: boolean
  /**
   * The event of every invocation, or a function called per invocation with `{ phase, index }`.
   * A phase's `event` wins.
   * @default `{}`
   */
  event?: EventSource
  /**
   * Leave the environments running after `run` (for another run, or to inspect them).
   * @default `false`
   */
  keepEnvironments?: boolean
  /**
   * Figures to sample over time during a run, by name.
   * @default none
   */
  samplers?: Record<string, Sampler<FleetState>>
  /**
   * Sampling interval, in ms.
   * @default `250`
   */
  sampleEveryMs?: number
  /**
   * Called when an invocation phase starts and after each of its invocations, with the phase's
   * counts (`phase`, `name`, `done`, `total`, `failures`): for a progress line.
   * @default none
   */
  onProgress?: (progress: FleetProgress) => void
  /**
   * Called with every finished invocation, in the order they finish.
   * @default none
   */
  onInvocation?: (record: InvocationRecord) => void
  /**
   * Called before each phase, e.g. to flip a `FaultProxy`; awaited.
   * @default none
   */
  beforePhase?: (info: PhaseHookInfo) => void | Promise<void>
  /**
   * Called after each phase with its result; awaited.
   * @default none
   */
  afterPhase?: (info: PhaseHookInfo) => void | Promise<void>
}

/** Fleet options with their defaults applied. */
export type ResolvedFleetOptions = FleetOptions &
  Required<
    Pick<
      FleetOptions,
      | 'exportName'
      | 'timeoutMs'
      | 'maxEnvironments'
      | 'perEnvironmentConcurrency'
      | 'freezeBetweenInvocations'
      | 'recycleOnTimeout'
      | 'keepEnvironments'
      | 'sampleEveryMs'
    >
  >

const positiveInteger = (name: string, value: unknown): void => {
  if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 1))
    throw new TypeError(`Fleet: ${name} must be an integer >= 1, got ${JSON.stringify(value)}`)
}

/** Validates fleet options (a `TypeError` names the bad one) and applies the defaults. */
export const resolveFleetOptions = (options: FleetOptions): ResolvedFleetOptions => {
  if (typeof options?.module !== 'string' || options.module === '')
    throw new TypeError('Fleet: module must be the path of a handler module')
  const module = path.resolve(options.module)
  if (!fs().existsSync(module)) throw new TypeError(`Fleet: module ${module} does not exist`)
  positiveInteger('timeoutMs', options.timeoutMs)
  positiveInteger('maxEnvironments', options.maxEnvironments)
  positiveInteger('perEnvironmentConcurrency', options.perEnvironmentConcurrency)
  positiveInteger('workersPerEnvironment', options.workersPerEnvironment)
  positiveInteger('sampleEveryMs', options.sampleEveryMs)
  if (options.output !== undefined && !['inherit', 'stderr', 'ignore'].includes(options.output))
    throw new TypeError(
      `Fleet: output must be inherit, stderr or ignore, got ${JSON.stringify(options.output)}`,
    )
  for (const [name, sampler] of Object.entries(options.samplers ?? {}))
    if (typeof sampler !== 'function') throw new TypeError(`Fleet: samplers.${name} must be a function`)
  for (const hook of ['onProgress', 'onInvocation', 'beforePhase', 'afterPhase'] as const)
    if (options[hook] !== undefined && typeof options[hook] !== 'function')
      throw new TypeError(`Fleet: ${hook} must be a function`)
  return {
    ...options,
    module,
    exportName: options.exportName ?? 'handler',
    timeoutMs: options.timeoutMs ?? 3000,
    maxEnvironments: options.maxEnvironments ?? 50,
    perEnvironmentConcurrency: options.perEnvironmentConcurrency ?? 1,
    freezeBetweenInvocations: options.freezeBetweenInvocations ?? options.workersPerEnvironment === undefined,
    recycleOnTimeout: options.recycleOnTimeout ?? true,
    keepEnvironments: options.keepEnvironments ?? false,
    sampleEveryMs: options.sampleEveryMs ?? 250,
  }
}
