import type { Socket } from 'node:net'
import type { ConnectionOptions as TlsOptions } from 'node:tls'
import { createLookup, forgetResolvedHost, isNetworkErrorCode, resolveHost } from '@middy-downstream/core'
import type { RedisOptions } from 'ioredis'

// CommonJS objects: an ESM import of node:net builds a namespace that loads its BlockList too.
const { connect: netConnect } = process.getBuiltinModule('node:net')
const { connect: tlsConnect } = process.getBuiltinModule('node:tls')

/** What ioredis passes a `Connector` and reads from it (its StandaloneConnector's surface). */
interface ConnectorOptions {
  host?: string
  port?: number
  family?: number
  path?: string
  tls?: TlsOptions
  disconnectTimeout?: number
}

/**
 * An ioredis `Connector` that opens the socket as ioredis's own StandaloneConnector does, but
 * resolves the host through core's `resolveHost` (hosts file, then c-ares with a TTL cache)
 * instead of `dns.lookup`, which waits for libuv's threadpool and stalls under Lambda Managed
 * Instances. `host` stays the name, so TLS sends it as SNI and checks the certificate against it.
 * ioredis calls `connect` on every (re)connect, so a failover's new address is looked up again.
 */
export const resolvingConnector = (lookupTimeoutMs: number): NonNullable<RedisOptions['Connector']> => {
  const lookup = createLookup(lookupTimeoutMs)
  class ResolvingConnector {
    connecting = false
    stream?: Socket
    firstError?: Error
    readonly disconnectTimeout: number

    constructor(readonly options: ConnectorOptions) {
      this.disconnectTimeout = options.disconnectTimeout ?? 2000
    }

    check(): boolean {
      return true
    }

    connect(): Promise<Socket> {
      const { host = 'localhost', port = 6379, family, tls } = this.options
      this.connecting = true
      // Next tick, as ioredis's connector: `disconnect()` may come first.
      return new Promise((resolve, reject) =>
        process.nextTick(() => {
          if (!this.connecting) return reject(new Error('Connection is closed.'))
          const options = { host, port, lookup, ...(family ? { family } : {}) }
          try {
            if (this.options.path) this.stream = netConnect({ path: this.options.path })
            else this.stream = tls ? tlsConnect({ ...options, ...tls }) : netConnect(options)
          } catch (error) {
            return reject(error)
          }
          this.stream.once('error', (error: NodeJS.ErrnoException) => {
            this.firstError = error
            // The cached address may be stale (a failover): the reconnect asks DNS again.
            if (isNetworkErrorCode(error.code)) forgetResolvedHost(host)
          })
          resolve(this.stream)
        }),
      )
    }

    /** ioredis's AbstractConnector: end the stream, destroy it if it does not close in time. */
    disconnect(): void {
      this.connecting = false
      const stream = this.stream
      if (!stream) return
      const timer = setTimeout(() => stream.destroy(), this.disconnectTimeout)
      stream.on('close', () => clearTimeout(timer))
      stream.end()
    }
  }
  // ioredis types the option as its own AbstractConnector subclass; this has the same surface.
  return ResolvingConnector as unknown as NonNullable<RedisOptions['Connector']>
}

/** ioredis Cluster's `dnsLookup` for the startup nodes, answered by `resolveHost`. */
export const clusterDnsLookup =
  (timeoutMs: number) =>
  (hostname: string, callback: (error: Error | null, address: string) => void): void => {
    resolveHost(hostname, timeoutMs).then(
      ({ address }) => callback(null, address),
      (error: Error) => callback(error, ''),
    )
  }
