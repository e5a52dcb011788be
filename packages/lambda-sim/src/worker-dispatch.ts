/**
 * The runtime side of a Managed Instances environment: starts the worker threads and queues each
 * invocation; a worker whose wait for the next event (a blocking read on a shared FIFO, holding a
 * libuv threadpool thread) gets an event's byte claims it. As in the real runtime, an error that
 * kills a worker (an unhandled rejection) fails that worker's invocations, and the next event
 * aborts the whole process, failing every invocation still in flight.
 */
import path from 'node:path'
import type { Worker } from 'node:worker_threads'
import { childProcess, fs, os, workerThreads } from './builtins.js'
import type { CallMessage, HostMessage, InvokeMessage, ReplyMessage } from './protocol.js'
import type { WorkerData } from './worker-runner.js'

export interface WorkerPoolOptions {
  modulePath: string
  exportName: string
  workers: number
  maxConcurrency: number
}

interface RunningWorker {
  index: number
  thread: Worker
  inFlight: Set<number>
}

type Resolve = (reply: ReplyMessage) => void
type WorkerMessage = ReplyMessage | { type: 'claim' } | { type: 'ready' }

/**
 * Ends the process at once. `process.exit` would hang: at exit libuv joins its threadpool, whose
 * threads may be blocked reading the FIFO for an event that never comes.
 */
export const killProcess = (): never => {
  process.kill(process.pid, 'SIGKILL')
  throw new Error('unreachable')
}

const startWorker = async (index: number, data: WorkerData): Promise<RunningWorker> => {
  const thread = new (workerThreads().Worker)(new URL('./worker-runner.js', import.meta.url), {
    workerData: data,
  })
  await new Promise<void>((resolve, reject) => {
    const onReady = (message: WorkerMessage) => {
      if (message.type !== 'ready') return
      thread.off('message', onReady)
      resolve()
    }
    thread.on('message', onReady)
    thread.once('error', reject)
  })
  return { index, thread, inFlight: new Set<number>() }
}

export const startWorkers = async (options: WorkerPoolOptions) => {
  const share = Math.ceil(options.maxConcurrency / options.workers)
  const dir = fs().mkdtempSync(path.join(os().tmpdir(), 'lambda-sim-workers-'))
  process.once('exit', () => fs().rmSync(dir, { recursive: true, force: true }))
  const fifo = path.join(dir, 'events')
  childProcess().execFileSync('mkfifo', [fifo])
  // O_RDWR: opening a FIFO write-only would block until a reader opens it.
  const fd = fs().openSync(fifo, fs().constants.O_RDWR)
  const data = { modulePath: options.modulePath, exportName: options.exportName, share, fifo }
  const workers = await Promise.all(
    Array.from({ length: options.workers }, (_, index) => startWorker(index, data)),
  )
  const invocations = new Map<number, Resolve>()
  const calls = new Map<
    number,
    { values: unknown[]; answered: number; failed?: ReplyMessage; resolve: Resolve }
  >()
  const queue: InvokeMessage[] = []
  let deadWorker: string | undefined

  const abortRuntime = () => {
    console.error(`lambda-sim: ${deadWorker}; an event reached it and the runtime aborts`)
    killProcess()
  }
  const onReply = (worker: RunningWorker, reply: ReplyMessage) => {
    if (worker.inFlight.delete(reply.id)) {
      invocations.get(reply.id)?.(reply)
      invocations.delete(reply.id)
      return
    }
    const call = calls.get(reply.id)
    if (!call) return
    call.answered += 1
    if (reply.ok) call.values[worker.index] = reply.value
    else call.failed = reply
    if (call.answered === workers.length) {
      calls.delete(reply.id)
      call.resolve(call.failed ?? { ...reply, ok: true, value: call.values })
    }
  }
  const die = (worker: RunningWorker, reason: string) => {
    if (deadWorker !== undefined) return
    deadWorker = `worker thread ${worker.index} died: ${reason}`
    for (const id of worker.inFlight) {
      invocations.get(id)?.({
        type: 'reply',
        id,
        ok: false,
        error: { name: 'WorkerExited', message: deadWorker },
        durationMs: 0,
      })
      invocations.delete(id)
    }
    worker.inFlight.clear()
    // The dead worker's read may still take an event's byte: an event waiting now may have
    // reached it, and the runtime aborts.
    if (queue.length > 0) abortRuntime()
  }
  for (const worker of workers) {
    worker.thread.on('message', (message: WorkerMessage) => {
      if (message.type === 'reply') onReply(worker, message)
      if (message.type !== 'claim') return
      const event = queue.shift()
      if (!event) return
      worker.inFlight.add(event.id)
      worker.thread.postMessage(event)
    })
    worker.thread.on('error', (error) => die(worker, error instanceof Error ? error.message : String(error)))
    worker.thread.on('exit', (code) => die(worker, `exited with code ${code}`))
  }

  const invoke = (message: InvokeMessage) =>
    new Promise<ReplyMessage>((resolve) => {
      if (deadWorker !== undefined) abortRuntime()
      invocations.set(message.id, resolve)
      queue.push(message)
      fs().writeSync(fd, Buffer.of(1))
    })
  /** A call goes to every worker; the reply's value is the array of their values, by worker. */
  const call = (message: CallMessage) =>
    new Promise<ReplyMessage>((resolve) => {
      calls.set(message.id, { values: [], answered: 0, resolve })
      for (const worker of workers) worker.thread.postMessage(message)
    })
  return {
    serve: (message: HostMessage) => (message.type === 'invoke' ? invoke(message) : call(message)),
  }
}
