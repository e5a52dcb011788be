import { managedInstances } from '@middy-downstream/core'
import type { ClusterOptions, RedisOptions } from 'ioredis'
import { internals } from './internals.js'
import type { ClientSettings, RedisClient } from './options.js'
import { clusterDnsLookup, resolvingConnector } from './resolving-connector.js'

const reconnectOnReadonly = (error: Error): 2 | false =>
  // After an ElastiCache/Redis failover the old primary answers writes with READONLY: reconnect
  // (the endpoint now names the new primary) and re-send, since the server refused to run it.
  error.message.startsWith('READONLY') ? 2 : false

/**
 * The ioredis `Redis` (or `Cluster`) for the settings, not connected yet (`lazyConnect`): the
 * user's options, with the ones this package decides (timeouts, the offline queue, retries
 * through `retryStrategy`) set over them.
 *
 * @example
 * const client = buildIoredisClient(settings, (times) => hooks.retryDelay(target, times))
 */
export const buildIoredisClient = <TClient extends RedisClient>(
  settings: ClientSettings,
  retryStrategy: (times: number) => number | null,
): TClient => {
  const { Redis } = settings
  const password = typeof settings.password === 'string' ? settings.password : undefined
  const commandTimeout =
    settings.commandTimeoutMs === undefined ? {} : { commandTimeout: settings.commandTimeoutMs }
  // ioredis 5 reads its package.json (fs.promises, on libuv's threadpool) on a process's first
  // connect, for CLIENT SETINFO. Under Managed Instances the runtime's workers hold that pool
  // while they wait for events, so the connect waits with it: skip the informational SETINFO.
  const clientInfo = managedInstances() ? { disableClientInfo: true } : {}
  if (settings.cluster) {
    const { redisOptions, ...clusterOptions } = settings.cluster.options ?? {}
    const nodeOptions: RedisOptions = {
      disconnectTimeout: settings.closeTimeoutMs,
      Connector: resolvingConnector(settings.connectTimeoutMs),
      ...clientInfo,
      ...settings.config,
      ...redisOptions,
      connectTimeout: settings.connectTimeoutMs,
      autoResendUnfulfilledCommands: settings.resendUnfulfilledCommands,
      ...commandTimeout,
      ...(password === undefined ? {} : { password }),
    }
    const options: ClusterOptions = {
      slotsRefreshTimeout: settings.connectTimeoutMs,
      // The ioredis README's TLS-cluster detail (ElastiCache): keep the configuration endpoint's
      // hostname instead of resolving it, so the certificate check sees the name it was issued for.
      // Otherwise the startup nodes' names are resolved without libuv's threadpool (see resolveHost).
      dnsLookup: nodeOptions.tls
        ? (address: string, callback: (e: null, a: string) => void) => callback(null, address)
        : clusterDnsLookup(settings.connectTimeoutMs),
      ...clusterOptions,
      lazyConnect: true,
      enableOfflineQueue: true,
      clusterRetryStrategy: retryStrategy,
      redisOptions: nodeOptions,
    }
    return new Redis.Cluster(settings.cluster.nodes, options) as TClient
  }
  const options: RedisOptions = {
    reconnectOnError: reconnectOnReadonly,
    disconnectTimeout: settings.closeTimeoutMs,
    // Sentinels pick the master through ioredis's own connector, which a Connector would replace.
    ...(settings.config?.sentinels ? {} : { Connector: resolvingConnector(settings.connectTimeoutMs) }),
    ...clientInfo,
    ...settings.config,
    lazyConnect: true,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    autoResendUnfulfilledCommands: settings.resendUnfulfilledCommands,
    connectTimeout: settings.connectTimeoutMs,
    ...commandTimeout,
    retryStrategy,
  }
  const client = (settings.url ? new Redis(settings.url, options) : new Redis(options)) as TClient
  // The password option wins over one in the URL.
  if (password !== undefined) internals(client).options.password = password
  return client
}
