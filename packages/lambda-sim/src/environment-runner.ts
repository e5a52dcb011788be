/**
 * The process side of a simulated Lambda environment: loads the handler module once (module
 * scope persists across invocations), then serves one invocation per message, like the Lambda
 * Node.js runtime: an async handler completes when its promise settles; a callback-style handler
 * completes at its callback, and then, while `context.callbackWaitsForEmptyEventLoop` is true,
 * only once the event loop has nothing left that the invocation added.
 */
import { register } from 'node:module'
import { pathToFileURL } from 'node:url'
import type { Context } from 'aws-lambda'
import type { CallMessage, HostMessage, InvokeMessage, ReplyMessage } from './protocol.js'
import { serializeError } from './protocol.js'

type Handler = (
  event: unknown,
  context: Context,
  callback?: (error: unknown, value?: unknown) => void,
) => unknown

const [modulePath, exportName = 'handler'] = process.argv.slice(2)
if (!modulePath) throw new Error('usage: environment-runner <handler module> [export name]')

if (process.env.LAMBDA_SIM_MIDDY_CORE) {
  register('./middy-resolve-hook.js', import.meta.url, { data: process.env.LAMBDA_SIM_MIDDY_CORE })
}

// Node opens stdout/stderr on first access; drivers touch them (stream.pipe reads process.stdout),
// which would otherwise count as a handle the first invocation left behind.
void process.stdout
void process.stderr

const send = (message: ReplyMessage | { type: 'ready'; initMs: number }) => process.send?.(message)

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

const makeContext = (message: InvokeMessage, startedAt: number): Context => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: message.functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${message.functionName}`,
  memoryLimitInMB: '128',
  awsRequestId: message.awsRequestId,
  logGroupName: `/aws/lambda/${message.functionName}`,
  logStreamName: `lambda-sim/${process.pid}`,
  getRemainingTimeInMillis: () => Math.max(0, startedAt + message.timeoutMs - Date.now()),
  done: () => {},
  fail: () => {},
  succeed: () => {},
})

const start = Date.now()
const loaded = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>
const handler = loaded[exportName] as Handler
if (typeof handler !== 'function') throw new Error(`${modulePath} exports no function named ${exportName}`)
send({ type: 'ready', initMs: Date.now() - start })

const invoke = async (message: InvokeMessage): Promise<ReplyMessage> => {
  const startedAt = Date.now()
  const deadline = startedAt + message.timeoutMs
  const context = makeContext(message, startedAt)
  const reply = (fields: Omit<ReplyMessage, 'type' | 'id' | 'durationMs'>): ReplyMessage => ({
    type: 'reply',
    id: message.id,
    durationMs: Date.now() - startedAt,
    ...fields,
  })
  let timer: NodeJS.Timeout | undefined
  // Unreferenced, so the runner's own deadline never counts as something the invocation left.
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), message.timeoutMs).unref()
  })
  const baseline = countsByType()
  const callbackStyle = handler.length >= 3
  const outcome = new Promise<{ ok: boolean; value?: unknown; error?: unknown }>((resolve) => {
    const settle = (error: unknown, value?: unknown) =>
      resolve(error === null || error === undefined ? { ok: true, value } : { ok: false, error })
    try {
      const returned = handler(message.event, context, callbackStyle ? settle : undefined)
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
  try {
    const first = await Promise.race([outcome, timeout])
    if (first === 'timeout') {
      return reply({
        ok: false,
        timedOut: true,
        error: { name: 'TimeoutError', message: `Task timed out after ${message.timeoutMs} ms` },
      })
    }
    if (callbackStyle && context.callbackWaitsForEmptyEventLoop) {
      const drained = await waitForEmptyLoop(baseline, deadline)
      if (!drained) {
        return reply({
          ok: false,
          timedOut: true,
          error: {
            name: 'TimeoutError',
            message: `Task timed out after ${message.timeoutMs} ms (event loop not empty)`,
          },
        })
      }
    }
    return first.ok
      ? reply({ ok: true, value: first.value })
      : reply({ ok: false, error: serializeError(first.error) })
  } finally {
    clearTimeout(timer)
  }
}

const call = async (message: CallMessage): Promise<ReplyMessage> => {
  const startedAt = Date.now()
  try {
    const fn = loaded[message.exportName]
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

process.on('message', (message: HostMessage) => {
  const work = message.type === 'invoke' ? invoke(message) : call(message)
  void work.then(send)
})
// The host owns this process's lifetime: when the IPC channel closes, so does the environment.
process.on('disconnect', () => process.exit(0))
