/**
 * The process side of a simulated Lambda environment. Classic mode: loads the handler module once
 * (module scope persists across invocations) and serves one invocation per message. Managed
 * Instances mode (`LAMBDA_SIM_WORKERS` set): like the real Node.js runtime, it starts that many
 * worker threads, each loading its own copy of the handler module, and hands them the invocations.
 */
import { callExport, invokeHandler, loadHandler } from './handler-host.js'
import {
  type HostMessage,
  type InitErrorMessage,
  type ReadyMessage,
  type ReplyMessage,
  serializeError,
} from './protocol.js'
import { killProcess, startWorkers } from './worker-dispatch.js'

const [modulePath, exportName = 'handler'] = process.argv.slice(2)
if (!modulePath) throw new Error('usage: environment-runner <handler module> [export name]')

// Node opens stdout/stderr on first access; drivers touch them (stream.pipe reads process.stdout),
// which would otherwise count as a handle the first invocation left behind.
void process.stdout
void process.stderr

const send = (message: ReplyMessage | ReadyMessage | InitErrorMessage) => process.send?.(message)

const workers = Number(process.env.LAMBDA_SIM_WORKERS ?? 0)
let serve: (message: HostMessage) => Promise<ReplyMessage>
if (workers > 0) {
  const started = Date.now()
  const dispatch = await startWorkers({
    modulePath,
    exportName,
    workers,
    maxConcurrency: Number(process.env.AWS_LAMBDA_MAX_CONCURRENCY),
  })
  serve = dispatch.serve
  send({ type: 'ready', initMs: Date.now() - started })
} else {
  const hosted = await loadHandler(modulePath, exportName, true).catch((error: unknown) => {
    console.error(error)
    // Exit once the host has the reason: a throw could end the process before IPC delivers it.
    const message: InitErrorMessage = { type: 'init-error', error: serializeError(error) }
    process.send?.(message, () => process.exit(1))
    return new Promise<never>(() => {})
  })
  // While a handler runs in a classic environment, the real runtime (aws-lambda-ric) has nothing
  // of its own pending: a handler whose promise waits on nothing that keeps the event loop alive
  // ends the process (Runtime.ExitError). The IPC channel must not keep it alive for it either.
  // Where invocations run at once, the runtime's next-event request is pending: referenced.
  const concurrent = Boolean(process.env.LAMBDA_SIM_CONCURRENT || process.env.AWS_LAMBDA_MAX_CONCURRENCY)
  serve = async (message) => {
    if (message.type !== 'invoke') return callExport(hosted, message)
    if (!concurrent) process.channel?.unref()
    try {
      return await invokeHandler(hosted, message)
    } finally {
      process.channel?.ref()
    }
  }
  send({ type: 'ready', initMs: hosted.initMs })
}

process.on('message', (message: HostMessage) => {
  void serve(message).then(send)
})
// The host owns this process's lifetime: when the IPC channel closes, so does the environment.
process.on('disconnect', () => (workers > 0 ? killProcess() : process.exit(0)))
