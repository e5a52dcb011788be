import type { MiddlewareObj, Request } from '@middy/core'
import { trySet, validateOptions, warnOnce } from '@middy-downstream/core'
import { installGlobal } from './global.js'
import {
  type HttpResourcesOptions,
  packageName,
  resourceDefaults,
  resourceSchema,
  withDefaults,
} from './options.js'
import { createHttpResources, type HttpResources } from './resources.js'
import type { Invocation } from './unread-bodies.js'

// Kept on Middy's request under a symbol of ours (a WeakMap keyed by every request costs more in
// garbage collection than the rest of the middleware).
const invocationKey = Symbol('keepalive-agent.invocation')
type InvocationHolder = Request & { [invocationKey]?: MiddyInvocation }

/** One Middy invocation: over at `after`/`onError`, or as soon as a middleware responded early. */
class MiddyInvocation implements Invocation {
  constructor(private readonly request: Request) {}

  get awsRequestId(): string | undefined {
    return (this.request.context as { awsRequestId?: string }).awsRequestId
  }

  // An early response skips `after`: the invocation is over all the same.
  isOver(): boolean {
    return Object.hasOwn(this.request, 'earlyResponse')
  }
}

/**
 * Options of the middleware: those of `createHttpResources`, plus where to put the resources.
 *
 * @example
 * const options: KeepaliveAgentOptions = { maxSockets: 512, thawThresholdMs: 10_000 }
 * middy().use(keepaliveAgent(options))
 */
export interface KeepaliveAgentOptions<K extends string = 'http'> extends HttpResourcesOptions {
  /**
   * Where the handler finds the resources on the context.
   * @default `'http'`
   */
  contextKey?: K
  /**
   * Also make the shared agents and dispatcher the process-wide defaults (`http.globalAgent`,
   * `https.globalAgent`, undici's global dispatcher), for clients you do not construct.
   * `uninstallGlobal()` puts the previous ones back.
   * @default `false`
   */
  installGlobal?: boolean
}

/**
 * The Lambda context as the handler sees it: with the shared resources under `contextKey`. Middy
 * infers it from `.use(keepaliveAgent())`; name it to type a handler written separately, or to
 * call the wrapped handler in a test.
 *
 * @example
 * const business = async (event: { url: string }, context: KeepaliveAgentContext) =>
 *   (await fetch(event.url, { dispatcher: context.http.dispatcher })).status
 * await handler({ url }, fakeContext() as KeepaliveAgentContext)
 */
export type KeepaliveAgentContext<K extends string = 'http'> = Request['context'] & {
  [P in K]: HttpResources
}

/**
 * The middleware's defaults; see the README for why each was chosen.
 *
 * @example
 * keepaliveAgent({ maxSockets: defaults.maxSockets * 2 })
 */
export const defaults = {
  ...resourceDefaults,
  contextKey: 'http',
  installGlobal: false,
} as const satisfies Required<Omit<KeepaliveAgentOptions, 'tls' | 'onEvent'>>

const schema = {
  ...resourceSchema,
  contextKey: { type: 'string', nonEmpty: true },
  installGlobal: { type: 'boolean' },
} as const

/**
 * Middy middleware: shared keep-alive agents for the whole environment, on `context.http`: a
 * `requestHandler` for AWS SDK v3 clients and a `dispatcher` for `fetch`, with no 50-socket cap,
 * timeouts that throw, and thaw hygiene: after an idle gap longer than `thawThresholdMs` (a
 * freeze), idle sockets are dropped before the handler runs, and an idempotent request whose
 * reused socket is reset is sent once more on a new one.
 *
 * @example
 * import middy from '@middy/core'
 * import keepaliveAgent, { createHttpResources } from '@middy-downstream/keepalive-agent'
 * import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3'
 *
 * const s3 = new S3Client({ requestHandler: createHttpResources({ maxSockets: 256 }).requestHandler })
 *
 * export const handler = middy<{ keys: string[] }>()
 *   .use(keepaliveAgent({ maxSockets: 256 }))
 *   .handler(async (event, context) => {
 *     const objects = await Promise.all(
 *       event.keys.map(async (Key) => (await s3.send(new GetObjectCommand({ Bucket: 'b', Key }))).Body!.transformToString()),
 *     )
 *     const status = await fetch('https://example.com/status', { dispatcher: context.http.dispatcher })
 *     return { objects: objects.length, status: status.status }
 *   })
 */
export const keepaliveAgent = <const K extends string = 'http'>(
  options: KeepaliveAgentOptions<K> = {},
): MiddlewareObj<unknown, unknown, Error, KeepaliveAgentContext<K>> => {
  validateOptions(packageName, schema, options)
  const {
    contextKey,
    installGlobal: makeGlobal,
    ...resourceOptions
  } = withDefaults(defaults as Required<KeepaliveAgentOptions<K>>, options)
  const resources = createHttpResources(resourceOptions)
  if (makeGlobal) installGlobal(resources)

  const end = (request: Request) => {
    resources.endInvocation((request as InvocationHolder)[invocationKey], request.response)
  }
  return {
    name: 'keepalive-agent',
    before: (request) => {
      const invocation = new MiddyInvocation(request)
      ;(request as InvocationHolder)[invocationKey] = invocation
      resources.beginInvocation(invocation)
      if (!trySet(request.context, contextKey, resources)) {
        warnOnce(
          `${packageName}:context`,
          `${packageName}: the context does not accept "${contextKey}" (frozen or read-only); use createHttpResources() with the same options instead (this warning is shown once per environment)`,
        )
      }
    },
    after: end,
    onError: end,
  }
}
