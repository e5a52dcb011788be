import type { MiddlewareObj, Request } from '@middy/core'
import {
  firstInEnvironment,
  lambdaContextOf,
  managedInstances,
  trySet,
  validateOptions,
  warnOnce,
} from '@middy-downstream/core'
import { activeResources, addedSince, type ResourceCounts } from './active-resources.js'

export const packageName = '@middy-downstream/event-loop-release'

/** What an invocation left active on the event loop. */
export interface LeftoverReport {
  /** Resource types the invocation added, with how many of each (e.g. `{ TCPSocketWrap: 1 }`). */
  added: ResourceCounts
  /** `after` for a handler that returned, `onError` for one that threw. */
  phase: 'after' | 'onError'
  awsRequestId?: string
  functionName?: string
}

export interface EventLoopReleaseOptions {
  /** Set the flag in `before`, so it is in place while the handler runs. Default `true`. */
  before?: boolean
  /** Also set it in `after`, in case the handler or a later middleware set it back. Default `false`. */
  after?: boolean
  /** Also set it in `onError`. Default `false`. */
  onError?: boolean
  /**
   * Report what the invocation left on the event loop: `false` (default), `'warn'` for a process
   * warning once per environment, or a function called after every invocation that left something.
   */
  reportLeftovers?: false | 'warn' | ((report: LeftoverReport) => void)
}

export const defaults: Required<EventLoopReleaseOptions> = {
  before: true,
  after: false,
  onError: false,
  reportLeftovers: false,
}

const schema = {
  before: { type: 'boolean' },
  after: { type: 'boolean' },
  onError: { type: 'boolean' },
  reportLeftovers: {
    type: 'custom',
    expected: "false, 'warn' or a function",
    check: (value: unknown) => value === false || value === 'warn' || typeof value === 'function',
  },
} as const

/**
 * Sets `callbackWaitsForEmptyEventLoop = false` on the Lambda context, also on Middy 7's durable
 * context (through `lambdaContext`), and does nothing where the context is frozen or lacks it.
 * Returns whether the flag is now false.
 */
export const releaseEventLoop = (context: unknown): boolean => {
  const inner = lambdaContextOf(context)
  const outerSet = trySet(context as object | undefined, 'callbackWaitsForEmptyEventLoop', false)
  const innerSet = inner === context ? outerSet : trySet(inner, 'callbackWaitsForEmptyEventLoop', false)
  return outerSet || innerSet
}

/**
 * Middy middleware: tells the Lambda runtime not to wait for an empty event loop before it sends
 * a callback-style handler's response, so an open socket or timer cannot hold the invocation
 * until its timeout; optionally reports what the invocation left open.
 *
 * @example
 * import middy from '@middy/core'
 * import eventLoopRelease from '@middy-downstream/event-loop-release'
 *
 * export const handler = middy()
 *   .use(eventLoopRelease({ reportLeftovers: 'warn' }))
 *   .handler(async () => ({ statusCode: 200 }))
 */
/**
 * Under concurrency, what the event loop gained during one invocation includes what the others
 * (and the runtime) did meanwhile: no honest per-invocation report exists. Said once per
 * execution environment, at WARN level (a process warning would be logged as an error).
 */
const sayCannotReport = (): void => {
  if (!firstInEnvironment(`${packageName}:concurrent`)) return
  console.warn(
    `${packageName}: reportLeftovers is off under Lambda Managed Instances (AWS_LAMBDA_MAX_CONCURRENCY is set): invocations share the event loop, so what one invocation left cannot be told apart from what the others and the runtime hold. Find leftovers in a classic (one-at-a-time) environment or with lambda-sim.`,
  )
}

export const eventLoopRelease = (options: EventLoopReleaseOptions = {}): MiddlewareObj => {
  validateOptions(packageName, schema, options)
  const settings = { ...defaults, ...options }
  const { reportLeftovers } = settings
  // Lambda Managed Instances run invocations concurrently on one event loop (per worker).
  const concurrent = managedInstances() !== undefined
  // One snapshot per in-flight invocation, keyed by its context.
  const snapshots = new WeakMap<object, ResourceCounts>()

  const report = (request: Request, phase: LeftoverReport['phase']) => {
    if (reportLeftovers === false || typeof request.context !== 'object' || request.context === null) return
    if (concurrent) {
      sayCannotReport()
      return
    }
    const before = snapshots.get(request.context)
    snapshots.delete(request.context)
    if (!before) return
    const added = addedSince(before)
    if (Object.keys(added).length === 0) return
    const inner = lambdaContextOf(request.context)
    const leftover: LeftoverReport = {
      added,
      phase,
      awsRequestId: inner?.awsRequestId,
      functionName: inner?.functionName,
    }
    if (reportLeftovers === 'warn') {
      const summary = Object.entries(added)
        .map(([type, count]) => `${count} ${type}`)
        .join(', ')
      warnOnce(
        `${packageName}:leftovers`,
        `${packageName}: the invocation left ${summary} active on the event loop; a callback-style handler waits for these unless callbackWaitsForEmptyEventLoop is false (this warning is shown once per environment)`,
      )
    } else {
      reportLeftovers(leftover)
    }
  }

  return {
    name: 'event-loop-release',
    before: (request) => {
      if (settings.before) releaseEventLoop(request.context)
      if (
        reportLeftovers !== false &&
        !concurrent &&
        typeof request.context === 'object' &&
        request.context !== null
      ) {
        snapshots.set(request.context, activeResources())
      }
    },
    after: (request) => {
      if (settings.after) releaseEventLoop(request.context)
      report(request, 'after')
    },
    onError: (request) => {
      if (settings.onError) releaseEventLoop(request.context)
      report(request, 'onError')
    },
  }
}
