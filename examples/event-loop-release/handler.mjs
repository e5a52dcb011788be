// A Lambda handler that opens a connection at module scope and leaves a socket open per
// invocation: the pattern that keeps a callback-style invocation waiting for an empty event loop.
import net from 'node:net'
import middy from '@middy/core'
import eventLoopRelease from '@middy-downstream/event-loop-release'

// Stands in for a database or cache the function talks to (unreferenced: not the handler's doing).
const upstream = net.createServer((socket) => socket.on('error', () => {}))
upstream.listen(0, '127.0.0.1')
upstream.unref()

const leaveSocketOpen = () =>
  new Promise((resolve) => {
    const socket = net.connect(upstream.address().port, '127.0.0.1', () => resolve(socket))
  })

const business = async (event) => {
  await leaveSocketOpen()
  return { statusCode: 200, body: `hello ${event.name ?? 'world'}` }
}

/** Middy handler with the middleware: reports leftovers once per environment. */
export const handler = middy()
  .use(eventLoopRelease({ reportLeftovers: 'warn' }))
  .handler(business)

/** The same handler without the middleware. */
export const unmanaged = middy().handler(business)

// Callback-style entry points, as a runtime that waits for the empty event loop calls them.
const asCallback = (asyncHandler) => (event, context, callback) => {
  asyncHandler(event, context).then((result) => callback(null, result), callback)
}
export const callbackHandler = asCallback(handler)
export const unmanagedCallbackHandler = asCallback(unmanaged)
