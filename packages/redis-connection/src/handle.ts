import type { RedisClient } from './options.js'

/** What a handle asks of its invocation: whether it ended, and the error a late use gets. */
export interface HandleOwner {
  readonly released: boolean
  releasedError(what: string): Error
}

/** Methods that return synchronously (a pipeline, an emitter): a late call throws instead of rejecting. */
const synchronous = new Set([
  'pipeline',
  'multi',
  'duplicate',
  'on',
  'once',
  'off',
  'addListener',
  'prependListener',
  'prependOnceListener',
  'removeListener',
  'removeAllListeners',
  'emit',
  'defineCommand',
  'disconnect',
  'nodes',
])

/** Read as they are: what logging and type checks call, which must work after release too. */
const plain = new Set(['toJSON', 'constructor'])

/** Methods that return a batch whose `exec` sends it later: `exec` is checked as well. */
const batches = new Set(['pipeline', 'multi'])

/**
 * The late call: a command fails at once with `ReleasedError` (through its callback too, when it
 * was given one); nothing is queued or sent.
 */
const refuse = (owner: HandleOwner, name: string, args: unknown[]): unknown => {
  const error = owner.releasedError(`redis.${name}()`)
  if (synchronous.has(name)) throw error
  const callback = args[args.length - 1]
  if (typeof callback === 'function') queueMicrotask(() => callback(error))
  return Promise.reject(error)
}

/** Guards a batch built during the invocation against an `exec` after it ended. */
const guardBatch = (owner: HandleOwner, batch: unknown): unknown => {
  if (typeof batch !== 'object' || batch === null) return batch
  const target = batch as { exec?: (...args: unknown[]) => unknown }
  const exec = target.exec
  if (typeof exec !== 'function') return batch
  target.exec = (...args: unknown[]) =>
    owner.released ? refuse(owner, 'exec', args) : exec.apply(batch, args)
  return batch
}

/**
 * One invocation's view of the shared ioredis client. Every method is the client's own, called
 * on the client itself (so ioredis' internals run at full speed and see no proxy), behind one
 * check: once the invocation ended, a call fails at once with `ReleasedError` and touches
 * nothing. Properties read through; `instanceof Redis` holds.
 *
 * A Proxy rather than tracking in `sendCommand`: the shared client cannot tell which invocation
 * sent a command (several run at once under Managed Instances, and a stashed handle may be used
 * during the next invocation), while each handle knows its own.
 *
 * @example
 * const redis = handleFor(client, scope)
 * await redis.get('k') // after the invocation: rejects with ReleasedError
 */
export const handleFor = <TClient extends RedisClient>(client: TClient, owner: HandleOwner): TClient => {
  // One wrapper per method used, made on first use in this invocation; found first, so a method
  // called again costs one lookup. A plain object: a Map per invocation costs a hash table.
  const bound: Record<string, unknown> = Object.create(null)
  return new Proxy(client, {
    get(target, property) {
      const known = typeof property === 'string' ? bound[property] : undefined
      if (known !== undefined) return known
      const value = Reflect.get(target, property, target) as unknown
      if (typeof value !== 'function' || typeof property === 'symbol' || plain.has(property)) return value
      const fn = value as (...args: unknown[]) => unknown
      // `arguments` passed straight to apply: no array is built per call.
      const method = batches.has(property)
        ? function (this: unknown) {
            // biome-ignore lint/complexity/noArguments: a rest parameter would build an array per command
            const args = arguments as unknown as unknown[]
            return owner.released
              ? refuse(owner, property, [...args])
              : guardBatch(owner, fn.apply(target, args))
          }
        : function (this: unknown) {
            // biome-ignore lint/complexity/noArguments: a rest parameter would build an array per command
            const args = arguments as unknown as unknown[]
            return owner.released ? refuse(owner, property, [...args]) : fn.apply(target, args)
          }
      bound[property] = method
      return method
    },
  })
}
