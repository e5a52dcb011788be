import { NodeHttpHandler, type NodeHttpHandlerOptions } from '@smithy/node-http-handler'
import { isResetOfReusedSocket } from './agents.js'
import { isIdempotent, isReplayable } from './reset.js'
import { socketWaitError } from './socket-wait.js'
import type { KeepaliveStats } from './stats.js'

type HandleArguments = Parameters<NodeHttpHandler['handle']>
type HandleResult = ReturnType<NodeHttpHandler['handle']>

/**
 * What `KeepaliveRequestHandler` adds to `NodeHttpHandler`'s options.
 *
 * @example
 * new KeepaliveRequestHandler({ httpsAgent }, { retryOnReset: true })
 */
export interface KeepaliveRequestHandlerOptions {
  /** Send an idempotent request again, once, when its reused idle socket was reset. */
  retryOnReset: boolean
  /**
   * Where retries are counted.
   * @default none (not counted)
   */
  stats?: KeepaliveStats
}

/**
 * The AWS SDK v3 `NodeHttpHandler`, on shared agents, that sends an idempotent request (GET,
 * HEAD, PUT, DELETE, OPTIONS, TRACE, with no body or a string/bytes body) once more on a new
 * socket when the reused idle socket it went out on was reset before any response. A request that
 * timed out while waiting for a free socket fails with a message that says so (the SDK's blames
 * connecting). `destroy()` does nothing: the agents are shared by every client and outlive each
 * of them.
 *
 * @example
 * const requestHandler = new KeepaliveRequestHandler(
 *   { httpsAgent: new KeepaliveHttpsAgent({ keepAlive: true }), requestTimeout: 30_000, throwOnRequestTimeout: true },
 *   { retryOnReset: true },
 * )
 * const s3 = new S3Client({ requestHandler })
 */
export class KeepaliveRequestHandler extends NodeHttpHandler {
  private readonly retryOnReset: boolean
  private readonly counters?: KeepaliveStats

  constructor(handlerOptions: NodeHttpHandlerOptions, options: KeepaliveRequestHandlerOptions) {
    super(handlerOptions)
    this.retryOnReset = options.retryOnReset
    this.counters = options.stats
  }

  override async handle(...args: HandleArguments): HandleResult {
    try {
      return await this.send(args)
    } catch (error) {
      const [request, options] = args
      if (
        !this.retryOnReset ||
        !isResetOfReusedSocket(error) ||
        !isIdempotent(request.method) ||
        !isReplayable(request.body) ||
        options?.abortSignal?.aborted
      ) {
        throw error
      }
      if (this.counters) this.counters.retries += 1
      return this.send(args)
    }
  }

  private async send(args: HandleArguments): HandleResult {
    try {
      return await super.handle(...args)
    } catch (error) {
      throw socketWaitError(args[0].headers, error) ?? error
    }
  }

  /** Does nothing: a client's `destroy()` must not close sockets that other clients share. */
  override destroy(): void {}
}
