import type { Socket } from 'node:net'
import type { RedisClient } from './options.js'

/**
 * The parts of an ioredis 5/6 `Redis` or `Cluster` (or a cluster's node) this package reads or
 * hooks. All of them exist, with the same meaning, in ioredis 5.4+ and 6.
 *
 * @example
 * const { status, stream } = internals(client)
 */
export interface ClientInternals {
  status: string
  isCluster?: boolean
  options: Record<string, unknown> & { redisOptions?: Record<string, unknown> }
  stream?: Socket
  connectionEpoch?: number
  /** Redis: what opens the socket; ioredis calls it after `connect()` set up the attempt. */
  connector?: { connect(...args: unknown[]): Promise<unknown>; stream?: Socket }
  /** Redis: the AUTH of the current attempt, taken from `options` when `connect()` starts it. */
  condition?: { auth?: unknown; select?: number; subscriber?: unknown } | null
  /** Redis: `normal`, `subscriber` or `monitor`. */
  mode?: string
  /** Cluster: creates the node connections from its own `redisOptions` (a copy in ioredis 6). */
  connectionPool?: { redisOptions?: Record<string, unknown> }
  /** Cluster: resolves the startup nodes at the start of every (re)connect, before nodes are created. */
  resolveStartupNodeHostnames?(): Promise<unknown>
  commandQueue?: { length: number; peekBack(): { command: unknown } | undefined }
  prevCommandQueue?: { length: number; shift(): { command: CommandInternals } | undefined } | null
  connect(callback?: unknown): Promise<void>
  sendCommand(command: CommandInternals, ...rest: unknown[]): unknown
  flushQueue(error: Error): void
  disconnect(reconnect?: boolean): void
  nodes?(role?: string): ClientInternals[]
  on(event: string, listener: (...args: never[]) => void): unknown
  once(event: string, listener: (...args: never[]) => void): unknown
  removeListener(event: string, listener: (...args: never[]) => void): unknown
}

/**
 * An ioredis `Command` as it travels through `sendCommand`.
 *
 * @example
 * const name = (command: CommandInternals) => command.name.toUpperCase()
 */
export interface CommandInternals {
  name: string
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
  promise: Promise<unknown>
}

/**
 * The client seen through the internals this package relies on.
 *
 * @example
 * internals(client).status // 'ready'
 */
export const internals = (client: RedisClient | ClientInternals): ClientInternals =>
  client as unknown as ClientInternals

/**
 * The sockets a client holds: its own, or its cluster nodes'.
 *
 * @example
 * for (const stream of streamsOf(internals(client))) stream.unref()
 */
export const streamsOf = (client: ClientInternals): Socket[] => {
  // A single client is the common case, and this runs twice per command (ref, unref).
  if (!client.isCluster) return client.stream ? [client.stream] : []
  return (client.nodes?.('all') ?? []).flatMap((owner) => (owner.stream ? [owner.stream] : []))
}

/**
 * A socket whose peer closed it (a FIN or RST read after a freeze), or that was destroyed.
 *
 * @example
 * if (streamsOf(c).some(isDeadStream)) replace()
 */
export const isDeadStream = (stream: Socket): boolean =>
  stream.destroyed || !stream.writable || stream.readableEnded

/**
 * `host:port` (or the socket path, or the cluster's startup nodes), for messages; never a password.
 *
 * @example
 * describeEndpoint(internals(client)) // '127.0.0.1:6379'
 */
export const describeEndpoint = (client: ClientInternals, clusterNodes?: unknown[]): string => {
  if (clusterNodes) {
    const nodes = clusterNodes.map((node) => {
      if (typeof node === 'string' || typeof node === 'number')
        return String(node).replace(/\/\/[^@/]*@/, '//')
      const { host = '127.0.0.1', port = 6379 } = node as { host?: string; port?: number }
      return `${host}:${port}`
    })
    return `cluster ${nodes.slice(0, 3).join(',')}${nodes.length > 3 ? ',…' : ''}`
  }
  const { path, host, port } = client.options as { path?: string; host?: string; port?: number }
  return path ? String(path) : `${host ?? 'localhost'}:${port ?? 6379}`
}

/**
 * ioredis' `disconnect()` arms a referenced timer (`disconnectTimeout`, 2 s) that only a later
 * `close` event of the socket clears; on a socket that has already closed it runs its full length
 * and keeps a callback-style invocation (or the process) alive. A closed socket is forgotten first.
 *
 * @example
 * forgetClosedStreams(c)
 * c.disconnect()
 */
export const forgetClosedStreams = (client: ClientInternals): void => {
  const owners = client.isCluster ? (client.nodes?.('all') ?? []) : [client]
  for (const owner of owners) {
    const connector = owner.connector
    if (connector?.stream && (connector.stream as Socket & { closed?: boolean }).closed)
      connector.stream = undefined
  }
}

const inspectCustom = Symbol.for('nodejs.util.inspect.custom')

/**
 * Gives the ioredis client (or cluster node) we created a `toJSON` and a `util.inspect` of its
 * own: `console.log(context)` or `JSON.stringify(context)` in a handler would otherwise print its
 * options, password included. Its properties (`client.options.password`) stay reachable to code
 * that asks for them.
 *
 * @example
 * conceal(internals(client), () => '127.0.0.1:6379')
 */
export const conceal = (client: ClientInternals, endpoint: () => string): void => {
  const summary = () => ({ status: client.status, endpoint: endpoint() })
  const kind = client.isCluster ? 'Cluster' : 'Redis'
  Object.defineProperty(client, 'toJSON', { value: summary, configurable: true })
  Object.defineProperty(client, inspectCustom, {
    value: () => `${kind} ${JSON.stringify(summary())}`,
    configurable: true,
  })
}
