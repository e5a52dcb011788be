/**
 * Loads a handler module and serves invocations the way the Lambda Node.js runtime does: an async
 * handler completes when its promise settles; a callback-style handler completes at its callback,
 * and then, while `context.callbackWaitsForEmptyEventLoop` is true, only once the event loop has
 * nothing left that the invocation added. Used by an environment's process (classic mode) and by
 * each of its worker threads (Managed Instances mode), so each worker has its own module instance.
 */
import { pathToFileURL } from 'node:url'
import type { Context } from 'aws-lambda'
import { nodeModule } from './builtins.js'
import type { CallMessage, InvokeMessage, ReplyMessage } from './protocol.js'
import { serializeError } from './protocol.js'

type Handler = (
  event: unknown,
  context: Context,
  callback?: (error: unknown, value?: unknown) => void,
) => unknown

export interface HostedHandler {
  loaded: Record<string, unknown>
  handler: Handler
  initMs: number
  /**
   * Managed Instances: the platform does not enforce the timeout, and the context's remaining
   * time goes to zero and below while the handler keeps running.
   */
  enforceTimeout: boolean
}

/**
 * Whether the runtime of this Node.js takes callback-style handlers: Lambda's runtimes up to
 * Node.js 22 do; the Node.js 24 runtime refuses them at init, and so does an environment here.
 *
 * @example
 * if (!callbackHandlersSupported()) console.log('make the handler async')
 */
export const callbackHandlersSupported = (): boolean => Number(process.versions.node.split('.')[0]) < 24

/** Imports the handler module (the init phase), with `@middy/core` redirected when asked. */
export const loadHandler = async (
  modulePath: string,
  exportName: string,
  enforceTimeout: boolean,
): Promise<HostedHandler> => {
  // A resolve hook applies to the thread that registers it: each worker registers its own.
  if (process.env.LAMBDA_SIM_MIDDY_CORE) {
    nodeModule().register('./middy-resolve-hook.js', import.meta.url, {
      data: process.env.LAMBDA_SIM_MIDDY_CORE,
    })
  }
  const start = Date.now()
  const loaded = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>
  const handler = loaded[exportName] as Handler
  if (typeof handler !== 'function') throw new Error(`${modulePath} exports no function named ${exportName}`)
  if (handler.length >= 3 && !callbackHandlersSupported())
    throw new Error(
      `${exportName} is a callback-style handler (it takes 3 parameters): the Node.js ${process.versions.node.split('.')[0]} runtime supports only async handlers (callbacks ended with Node.js 22); make it async and return the result`,
    )
  return { loaded, handler, initMs: Date.now() - start, enforceTimeout }
}

const countsByType = (): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1)
  return counts
}

/** True when no resource type has more instances than before the invocation began. */
const nothingAdded = (baseline: Map<string, number>): boolean => {
  for (const [type, count] of countsByType()) if (count > (baseline.get(type) ?? 0)) return false
  return true
}

const waitForEmptyLoop = async (baseline: Map<string, number>, deadline: number): Promise<boolean> => {
  for (;;) {
    // setImmediate, not a timer: the check must not count itself as something left behind.
    await new Promise((resolve) => setImmediate(resolve))
    if (nothingAdded(baseline)) return true
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setImmediate(resolve))
  }
}

const makeContext = (message: InvokeMessage, startedAt: number, enforced: boolean): Context => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: message.functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${message.functionName}`,
  memoryLimitInMB: '128',
  awsRequestId: message.awsRequestId,
  logGroupName: `/aws/lambda/${message.functionName}`,
  logStreamName: `lambda-sim/${process.pid}`,
  getRemainingTimeInMillis: () => {
    const left = startedAt + message.timeoutMs - Date.now()
    return enforced ? Math.max(0, left) : left
  },
  done: () => {},
  fail: () => {},
  succeed: () => {},
})

type Outcome = { ok: boolean; value?: unknown; error?: unknown }

const runHandler = (handler: Handler, event: unknown, context: Context): Promise<Outcome> =>
  new Promise<Outcome>((resolve) => {
    const callbackStyle = handler.length >= 3
    const settle = (error: unknown, value?: unknown) =>
      resolve(error === null || error === undefined ? { ok: true, value } : { ok: false, error })
    try {
      const returned = handler(event, context, callbackStyle ? settle : undefined)
      if (!callbackStyle || returned instanceof Promise) {
        Promise.resolve(returned).then(
          (value) => settle(null, value),
          (error) => settle(error ?? new Error('handler rejected')),
        )
      }
    } catch (error) {
      settle(error)
    }
  })

const timedOut = (message: InvokeMessage, why = ''): Omit<ReplyMessage, 'type' | 'id' | 'durationMs'> => ({
  ok: false,
  timedOut: true,
  error: { name: 'TimeoutError', message: `Task timed out after ${message.timeoutMs} ms${why}` },
})

/** Serves one invocation and answers with its reply. */
export const invokeHandler = async (hosted: HostedHandler, message: InvokeMessage): Promise<ReplyMessage> => {
  const startedAt = Date.now()
  const deadline = startedAt + message.timeoutMs
  const context = makeContext(message, startedAt, hosted.enforceTimeout)
  const reply = (fields: Omit<ReplyMessage, 'type' | 'id' | 'durationMs'>): ReplyMessage => ({
    type: 'reply',
    id: message.id,
    durationMs: Date.now() - startedAt,
    ...fields,
  })
  let timer: NodeJS.Timeout | undefined
  // Unreferenced, so the runner's own deadline never counts as something the invocation left.
  const timeout = hosted.enforceTimeout
    ? new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), message.timeoutMs).unref()
      })
    : new Promise<never>(() => {})
  const baseline = countsByType()
  const callbackStyle = hosted.handler.length >= 3
  try {
    const first = await Promise.race([runHandler(hosted.handler, message.event, context), timeout])
    if (first === 'timeout') return reply(timedOut(message))
    if (callbackStyle && context.callbackWaitsForEmptyEventLoop) {
      const drained = await waitForEmptyLoop(baseline, deadline)
      if (!drained) return reply(timedOut(message, ' (event loop not empty)'))
    }
    return first.ok
      ? reply({ ok: true, value: first.value })
      : reply({ ok: false, error: serializeError(first.error) })
  } finally {
    clearTimeout(timer)
  }
}

/** Calls another export of the handler module (e.g. one that reports module-scope state). */
export const callExport = async (hosted: HostedHandler, message: CallMessage): Promise<ReplyMessage> => {
  const startedAt = Date.now()
  try {
    const fn = hosted.loaded[message.exportName]
    if (typeof fn !== 'function')
      throw new Error(`the handler module exports no function ${message.exportName}`)
    const value = await (fn as (...args: unknown[]) => unknown)(...message.args)
    return { type: 'reply', id: message.id, ok: true, value, durationMs: Date.now() - startedAt }
  } catch (error) {
    return {
      type: 'reply',
      id: message.id,
      ok: false,
      error: serializeError(error),
      durationMs: Date.now() - startedAt,
    }
  }
}
