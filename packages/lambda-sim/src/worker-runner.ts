/**
 * One worker thread of a Managed Instances environment, as the Lambda Node.js runtime runs it:
 * its own copy of the handler module, up to `share` invocations at once, and a wait for the next
 * event that blocks one libuv threadpool thread (the real runtime's Runtime API call does), so
 * workers waiting for events starve `dns.lookup`, `fs` and `crypto` of the 4 default threads.
 */
import { constants, openSync, read } from 'node:fs'
import { parentPort, workerData } from 'node:worker_threads'
import { callExport, invokeHandler, loadHandler } from './handler-host.js'
import type { HostMessage, InvokeMessage } from './protocol.js'

export interface WorkerData {
  modulePath: string
  exportName: string
  /**
   * The FIFO all workers read: one byte per event, taken by whichever worker's read is actually
   * blocked in the kernel (as Lambda hands an event to a worker whose Runtime API call is open).
   */
  fifo: string
  /** Invocations this worker runs at once. */
  share: number
}

const port = parentPort
if (!port) throw new Error('worker-runner runs in a worker thread')
const { modulePath, exportName, fifo, share } = workerData as WorkerData

const hosted = await loadHandler(modulePath, exportName, false)
// O_RDWR: opening a FIFO read-only would block until a writer opens it.
const fd = openSync(fifo, constants.O_RDWR)
const inbox: InvokeMessage[] = []
let delivered: (() => void) | undefined
let freed: (() => void) | undefined

port.on('message', (message: HostMessage) => {
  if (message.type === 'call') {
    void callExport(hosted, message).then((reply) => port.postMessage(reply))
    return
  }
  inbox.push(message)
  delivered?.()
})
port.postMessage({ type: 'ready', initMs: hosted.initMs })

/**
 * One blocking read of the FIFO. A signal delivered to the threadpool thread blocked in it
 * (EINTR) or a spurious wake-up (EAGAIN) is not an event: read again, as the runtime's HTTP call
 * to the Runtime API would be retried; otherwise the thread would be freed and the worker die.
 */
const waitForByte = async (): Promise<void> => {
  for (;;) {
    try {
      await new Promise<void>((resolve, reject) =>
        read(fd, Buffer.alloc(1), 0, 1, null, (error) => (error ? reject(error) : resolve())),
      )
      return
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'EINTR' && code !== 'EAGAIN') throw error
      console.error(`lambda-sim worker: the wait for the next event was interrupted (${code}); waiting again`)
    }
  }
}

/**
 * The blocking wait for the next event: a read that holds a threadpool thread until an event's
 * byte arrives; then this worker claims the event from the dispatcher.
 */
const nextEvent = async (): Promise<InvokeMessage> => {
  await waitForByte()
  port.postMessage({ type: 'claim' })
  while (inbox.length === 0) await new Promise<void>((resolve) => (delivered = resolve))
  return inbox.shift() as InvokeMessage
}

let inFlight = 0
for (;;) {
  if (inFlight >= share) {
    await new Promise<void>((resolve) => (freed = resolve))
    continue
  }
  const message = await nextEvent()
  inFlight += 1
  void invokeHandler(hosted, message).then((reply) => {
    inFlight -= 1
    port.postMessage(reply)
    freed?.()
  })
}
