import { EventEmitter } from 'node:events'

export interface SelfSignedCertificate {
  dir: string
  keyPath: string
  certPath: string
  key: string
  cert: string
}

/** A P-256 key and a self-signed certificate for localhost and 127.0.0.1, made with openssl. */
export declare const makeSelfSignedCertificate: () => SelfSignedCertificate

export interface HttpsTestServerOptions {
  /** Close a keep-alive connection after it sat idle this long, without announcing it. Default never. */
  idleTimeoutMs?: number
  /**
   * How an idle connection is closed. `'fin'` (default): TLS close_notify and TCP FIN at once.
   * `'silent'`: the client is told nothing, and its next request on the connection gets a TCP
   * reset, as when the FIN never reached a frozen Lambda environment (its whole microVM is paused,
   * while a SIGSTOPped process still has a kernel that takes the FIN in).
   */
  idleClose?: 'fin' | 'silent'
  /** Answer every request this long after it arrived: a service time, for benchmarks. Default 0. */
  latencyMs?: number
  /** Announce `Keep-Alive: timeout=<seconds>` on every response. Default not announced. */
  keepAliveHintSeconds?: number
  /**
   * Answer a GetObject that asks for it (`x-amz-checksum-mode: ENABLED`, which the SDK sends by
   * default) with the object's CRC32, as S3 does for objects stored with a checksum. Default false.
   */
  checksums?: boolean
}

export interface HeldRequests {
  /** Resolves when all the held requests have arrived (they are in flight at once). */
  reached: Promise<void>
  /** Answers them. */
  release(): void
}

/**
 * A local HTTPS server that counts TCP connections and TLS handshakes and answers S3 path-style
 * GetObject, PutObject, HeadObject, DeleteObject and ListObjectsV2, plus `GET /json`.
 */
export declare class HttpsTestServer extends EventEmitter {
  static start(options?: HttpsTestServerOptions): Promise<HttpsTestServer>
  /** TCP connections accepted. */
  connections: number
  /** TLS handshakes completed (full and resumed). */
  handshakes: number
  /** Of those, handshakes that resumed an earlier session. */
  resumedHandshakes: number
  /** TCP connections open now. */
  open: number
  /** Open TLS connections the server has not closed or forgotten for idleness. */
  readonly live: number
  /** The most TCP connections open at once (since start or `resetCounters`). */
  peakOpen: number
  /** Keep-alive connections the server closed because they were idle. */
  idleClosed: number
  /** HTTP requests received. */
  requests: number
  /** Requests held by `holdNext` and not yet answered. */
  held: number
  /** Requests answered with a TCP reset by `resetNext`. */
  resets: number
  /** Stored objects by `bucket/key`. */
  objects: Map<string, Buffer>
  readonly port: number
  /** `https://127.0.0.1:<port>` */
  readonly url: string
  /** The certificate to trust (PEM). */
  readonly ca: string
  /** The certificate's file, for `NODE_EXTRA_CA_CERTS`. */
  readonly caPath: string
  resetCounters(): void
  holdNext(count: number): HeldRequests
  resetNext(count: number): void
  /** Closes every idle keep-alive connection now (close_notify and FIN). Returns how many. */
  closeIdleConnections(): number
  /** Forgets every idle keep-alive connection now, silently: the next request there is reset. */
  expireIdleConnections(): number
  waitFor(
    predicate: (server: HttpsTestServer) => boolean,
    options?: { timeoutMs?: number; what?: string },
  ): Promise<void>
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}
