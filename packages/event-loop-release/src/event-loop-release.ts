import type { MiddlewareObj, Request } from '@middy/core'
import {
  firstInEnvironment,
  lambdaContextOf,
  managedInstances,
  trySet,
  validateOptions,
  warnOnce,
} from '@middy-downstream/core/lite'
import { activeResources, addedSince, type ResourceCounts } from './active-resources.js'
import { runtimeTakesCallbacks } from './runtime.js'

export const packageName = '@middy-downstream/event-loop-release'

/** What an invocation left active on the event loop. */
export interface LeftoverReport {
  /** Resource types the invocation added, with how many of each (e.g. `{ TCPSocketWrap: 1 }`). */
  added: ResourceCounts
  /** `after` for a handler that returned, `onError` for one that threw. */
  phase: 'after' | 'onError'
  awsRequestId?: string
  functionName?: string
  /**
   * Whether the runtime takes callback-style handlers (Node.js 22 and before), whose response
   * waits for these unless `callbackWaitsForEmptyEventLoop` is false. `false` on Node.js 24: no
   * response waits for them, but they stay open across the freeze and reach the next invocation.
   */
  callbacks: boolean
}

export interface EventLoopReleaseOptions {
  /**
   * Set the flag in `before`, so it is in place while the handler runs.
   * @default `true`
   */
  before?: boolean
  /**
   * Also set it in `after`, in case the handler or a later middleware set it back.
   * @default `false`
   */
  after?: boolean
  /**
   * Also set it in `onError`.
   * @default `false`
   */
  onError?: boolean
  /**
   * Report what the invocation left on the event loop: `false` for nothing, `'warn'` for a process
   * warning once per environment, or a function called after every invocation that left something.
   * @default `false`
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

/** What the one-per-environment warning says the leftovers mean, on this runtime. */
const consequence = (callbacks: boolean): string =>
  callbacks
    ? 'a callback-style handler waits for these unless callbackWaitsForEmptyEventLoop is false'
    : 'on Node.js 24 no response waits for them, but they stay open while the environment is frozen and reach the next invocation (a socket may be dead by then, a timer fires there)'

/**
 * Middy middleware: tells the Lambda runtime not to wait for an empty event loop before it sends
 * a callback-style handler's response, so an open socket or timer cannot hold the invocation
 * until its timeout; optionally reports what the invocation left open. On Node.js 24, whose
 * runtime has neither callbacks nor the flag, it sets nothing and only reports.
 *
 * @example
 * import middy from '@middy/core'
 * import eventLoopRelease from '@middy-downstream/event-loop-release'
 *
 * export const handler = middy()
 *   .use(eventLoopRelease({ reportLeftovers: 'warn' }))
 *   .handler(async () => ({ statusCode: 200 }))
 */
export const eventLoopRelease = (options: EventLoopReleaseOptions = {}): MiddlewareObj => {
  validateOptions(packageName, schema, options)
  const settings = { ...defaults, ...options }
  const { reportLeftovers } = settings
  // Node.js 24's runtime has no callback handlers and no flag: setting it is a no-op there.
  const callbacks = runtimeTakesCallbacks()
  const release = (request: Request, when: boolean) => {
    if (when && callbacks) releaseEventLoop(request.context)
  }
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
      callbacks,
    }
    if (reportLeftovers === 'warn') {
      const summary = Object.entries(added)
        .map(([type, count]) => `${count} ${type}`)
        .join(', ')
      warnOnce(
        `${packageName}:leftovers`,
        `${packageName}: the invocation left ${summary} active on the event loop; ${consequence(callbacks)} (this warning is shown once per environment)`,
      )
    } else {
      reportLeftovers(leftover)
    }
  }

  return {
    name: 'event-loop-release',
    before: (request) => {
      release(request, settings.before)
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
      release(request, settings.after)
      report(request, 'after')
    },
    onError: (request) => {
      release(request, settings.onError)
      report(request, 'onError')
    },
  }
}
