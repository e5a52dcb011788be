import { EventSink, type LifecycleCounters, validateOptions } from '@middy-downstream/core'
import { KeepaliveHttpAgent, KeepaliveHttpsAgent } from './agents.js'
import { KeepaliveDispatcher } from './dispatcher.js'
import { uninstallGlobalIfInstalled } from './global.js'
import { createInvocationCycle } from './invocation-cycle.js'
import {
  fingerprint,
  type HttpResourcesOptions,
  packageName,
  type ResolvedHttpResourcesOptions,
  resourceDefaults,
  resourceSchema,
  withDefaults,
} from './options.js'
import { KeepaliveRequestHandler } from './request-handler.js'
import { emptyStats, type KeepaliveStats } from './stats.js'
import { type Invocation, InvocationTracker } from './unread-bodies.js'

/**
 * The dispatcher's type: undici 7's `Dispatcher`, and also the type Node's global `fetch` expects
 * in its `dispatcher` option. @types/node types that option with undici-types 6, which TypeScript
 * does not take as the same class as undici 7's; the object serves both. Where the global `fetch`
 * is typed without `dispatcher` (the DOM lib), this is just `KeepaliveDispatcher`.
 *
 * @example
 * const dispatcher: FetchDispatcher = createHttpResources().dispatcher
 * await fetch('https://example.com', { dispatcher }) // no cast needed
 */
export type FetchDispatcher = KeepaliveDispatcher &
  (RequestInit extends { dispatcher?: infer D } ? NonNullable<D> : unknown)

/**
 * The shared HTTP machinery of one environment: keep-alive agents, a request handler for AWS SDK
 * v3 clients and a dispatcher for `fetch`, all on the same limits and timeouts.
 *
 * @example
 * const http: HttpResources = createHttpResources()
 * const s3 = new S3Client({ requestHandler: http.requestHandler })
 * // without Middy, around each invocation:
 * http.beginInvocation()
 * try { await work() } finally { http.endInvocation() }
 */
export interface HttpResources {
  /** For `https.request`, and any client that takes an https agent. */
  readonly httpsAgent: KeepaliveHttpsAgent
  /** For `http.request`, and any client that takes an http agent. */
  readonly httpAgent: KeepaliveHttpAgent
  /** For AWS SDK v3 clients: `new S3Client({ requestHandler })`. */
  readonly requestHandler: KeepaliveRequestHandler
  /** For `fetch(url, { dispatcher })` (Node's or undici's) and undici's `request`. */
  readonly dispatcher: FetchDispatcher
  /** Counters for metrics. */
  readonly stats: KeepaliveStats
  /** The settings the resources were made with (TLS material left out). */
  readonly settings: Readonly<Omit<ResolvedHttpResourcesOptions, 'tls' | 'onEvent'>>
  /** Running totals of lifecycle events (`closes`: sockets destroyed for an unread body). */
  readonly counters: Readonly<LifecycleCounters>
  /**
   * Call when an invocation starts (the middleware does): when the environment sat idle for longer
   * than `thawThresholdMs`, drops every idle socket and connection. Returns how many it dropped.
   * Pass the same `invocation` object to `endInvocation`; without one, all calls share one.
   */
  beginInvocation(invocation?: Invocation): number
  /**
   * Call when an invocation ends (the middleware does), to start the idle clock. Destroys the
   * sockets still held by response bodies that no running invocation can read any more (never read,
   * not part of `result`, the handler's return value), and reports them: a `close` event and a
   * warning once per environment.
   */
  endInvocation(invocation?: Invocation, result?: unknown): void
  /** Drops every idle socket and connection now; requests in flight are not touched. */
  dropIdleSockets(): number
  /**
   * Destroys every socket and forgets these resources: the next `createHttpResources` call with
   * the same options makes new ones.
   */
  close(): Promise<void>
}

const registry = new Map<string, HttpResources>()
/** Where each set of resources reports its events; `onEvent` listeners subscribe here. */
const sinks = new WeakMap<HttpResources, EventSink>()
const build = (settings: ResolvedHttpResourcesOptions, key: string): HttpResources => {
  const stats = emptyStats()
  const events = new EventSink(packageName, key)
  const invocations = new InvocationTracker()
  const { tls, onEvent: _listener, ...plain } = settings
  const agentOptions = {
    keepAlive: true,
    maxSockets: settings.maxSockets,
    timeout: settings.freeSocketTimeoutMs,
    scheduling: 'lifo' as const,
  }
  const httpAgent = new KeepaliveHttpAgent(agentOptions, stats)
  const httpsAgent = new KeepaliveHttpsAgent({ ...agentOptions, ...tls }, stats)
  httpAgent.invocations = invocations
  httpsAgent.invocations = invocations
  const requestHandler = new KeepaliveRequestHandler(
    {
      httpAgent,
      httpsAgent,
      connectionTimeout: settings.connectionTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
    { retryOnReset: settings.retryOnReset, stats },
  )
  const dispatcher = new KeepaliveDispatcher({
    agent: {
      connections: Number.isFinite(settings.maxSockets) ? settings.maxSockets : null,
      keepAliveTimeout: settings.freeSocketTimeoutMs,
      keepAliveMaxTimeout: settings.freeSocketTimeoutMs,
      headersTimeout: settings.requestTimeoutMs,
      bodyTimeout: settings.requestTimeoutMs,
      connect: { ...tls, timeout: settings.connectionTimeoutMs },
    },
    idleTimeoutMs: settings.freeSocketTimeoutMs,
    retryOnReset: settings.retryOnReset,
    stats,
  })
  const dropIdleSockets = () =>
    httpsAgent.dropIdleSockets() + httpAgent.dropIdleSockets() + dispatcher.dropIdleConnections()
  const { thawThresholdMs } = settings
  const cycle = createInvocationCycle({ thawThresholdMs, stats, events, invocations, dropIdleSockets })

  const resources: HttpResources = {
    httpsAgent,
    httpAgent,
    requestHandler,
    dispatcher: dispatcher as FetchDispatcher,
    stats,
    counters: events.counters,
    settings: Object.freeze(plain),
    beginInvocation: cycle.beginInvocation,
    endInvocation: cycle.endInvocation,
    dropIdleSockets,
    close: async () => {
      if (registry.get(key) === resources) registry.delete(key)
      uninstallGlobalIfInstalled(resources)
      httpsAgent.destroy()
      httpAgent.destroy()
      await dispatcher.destroy()
    },
  }
  sinks.set(resources, events)
  return resources
}

/**
 * Returns the shared agents, SDK request handler and fetch dispatcher for these options, made on
 * the first call and reused by every later call with equal options in the same environment: create
 * SDK clients at module scope with them, and pass `dispatcher` to `fetch`.
 *
 * @example
 * import { S3Client } from '@aws-sdk/client-s3'
 * import { createHttpResources } from '@middy-downstream/keepalive-agent'
 *
 * const http = createHttpResources({ maxSockets: 256 })
 * const s3 = new S3Client({ requestHandler: http.requestHandler })
 * const response = await fetch('https://example.com', { dispatcher: http.dispatcher })
 */
export const createHttpResources = (options: HttpResourcesOptions = {}): HttpResources => {
  validateOptions(packageName, resourceSchema, options)
  const settings = withDefaults<ResolvedHttpResourcesOptions>(resourceDefaults, options)
  const key = fingerprint(settings)
  let resources = registry.get(key)
  if (!resources) {
    resources = build(settings, key)
    registry.set(key, resources)
  }
  sinks.get(resources)?.subscribe(settings.onEvent)
  return resources
}
