import { forgetResolvedHost, isNetworkErrorCode, resolveHost } from '@middy-downstream/core'
import type { ConnectionOptions } from 'mysql2/promise'

/**
 * mysql2 options that connect to `config.host` through core's `resolveHost` (hosts file, then
 * c-ares with a TTL cache) instead of `dns.lookup`, which waits for libuv's threadpool and stalls
 * under Lambda Managed Instances. mysql2 has no `lookup` option, so the socket comes from its
 * `stream` factory; `host` stays the name, so TLS still checks the certificate against it.
 */
export const resolvedConnectOptions = async (
  config: ConnectionOptions,
  timeoutMs: number,
): Promise<Partial<ConnectionOptions>> => {
  // A socket path, a stream of the user's, or a URL (mysql2 parses its host itself): left alone.
  if (config.stream !== undefined || config.socketPath !== undefined || (config.uri && !config.host))
    return {}
  const host = config.host ?? 'localhost'
  const { address } = await resolveHost(host, timeoutMs)
  if (address === host) return {}
  return {
    stream: () => {
      // The CommonJS object: an ESM import of node:net reads every export (BlockList, SocketAddress…).
      const socket = process
        .getBuiltinModule('node:net')
        .connect({ host: address, port: config.port ?? 3306 })
      // What mysql2 does for the sockets it opens itself.
      socket.setNoDelay(true)
      if (config.enableKeepAlive !== false) {
        socket.once('connect', () => socket.setKeepAlive(true, config.keepAliveInitialDelay))
      }
      return socket
    },
  }
}

/** After a network failure the cached address may be stale (a failover): ask DNS again next time. */
export const forgetAddressAfter = (config: ConnectionOptions, error: unknown): void => {
  const code = (error as { code?: unknown })?.code
  if (config.host !== undefined && isNetworkErrorCode(code)) forgetResolvedHost(config.host)
}
