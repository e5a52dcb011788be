import type { ConnectionOptions } from 'node:tls'
import type { EventListener, OptionsSchema } from '@middy-downstream/core'

/**
 * The package's name, as it appears in its errors and warnings.
 *
 * @example
 * process.on('warning', (w) => { if (w.message.startsWith(packageName)) log(w) })
 */
export const packageName = '@middy-downstream/keepalive-agent'

/**
 * TLS settings for every connection: a private CA, a client certificate for mutual TLS, …
 *
 * @example
 * const tls: KeepaliveTlsOptions = { ca: readFileSync('/opt/private-ca.pem') }
 * createHttpResources({ tls })
 */
export type KeepaliveTlsOptions = Pick<
  ConnectionOptions,
  | 'ca'
  | 'cert'
  | 'key'
  | 'passphrase'
  | 'pfx'
  | 'rejectUnauthorized'
  | 'servername'
  | 'minVersion'
  | 'maxVersion'
  | 'ciphers'
>

const tlsKeys: readonly string[] = [
  'ca',
  'cert',
  'key',
  'passphrase',
  'pfx',
  'rejectUnauthorized',
  'servername',
  'minVersion',
  'maxVersion',
  'ciphers',
]

/**
 * What the shared agents, request handler and dispatcher are built from.
 *
 * @example
 * const options: HttpResourcesOptions = { maxSockets: 512, requestTimeoutMs: 60_000 }
 * const s3 = new S3Client({ requestHandler: createHttpResources(options).requestHandler })
 */
export interface HttpResourcesOptions {
  /**
   * Most sockets open at once per origin (host and port), for the http(s) agents and for the fetch
   * dispatcher. `Infinity` for no limit.
   * @default `256`
   */
  maxSockets?: number
  /**
   * An idle keep-alive socket is closed after this long (a shorter `Keep-Alive: timeout` announced
   * by the server wins). Checked again when a socket is about to be reused, because a frozen
   * environment runs no timers.
   * @default `30_000`
   */
  freeSocketTimeoutMs?: number
  /**
   * When an invocation starts more than this long after the previous one (the environment was
   * probably frozen in between), every idle socket is dropped before the handler runs. `0` drops
   * them before every invocation.
   * @default `4_000`
   */
  thawThresholdMs?: number
  /**
   * Time allowed for the TCP connection to be established (the SDK counts the wait for a free
   * socket in it too); `0` for none.
   * @default `3_000`
   */
  connectionTimeoutMs?: number
  /**
   * Time allowed from sending a request to receiving its response headers (and, for fetch, between
   * two chunks of the body); the SDK throws a `TimeoutError`. `0` for none.
   * @default `30_000`
   */
  requestTimeoutMs?: number
  /**
   * Retry an idempotent request (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) once on a new socket when
   * the socket is reset before any response arrives.
   * @default `true`
   */
  retryOnReset?: boolean
  /**
   * TLS settings for every https connection (a private CA, a client certificate).
   * @default none
   */
  tls?: KeepaliveTlsOptions
  /**
   * Called for each lifecycle event: `close` with `reason: 'unread-body'` and `count` when sockets
   * held by response bodies nobody read were destroyed at the end of an invocation. Not part of
   * what makes two sets of resources equal: every listener given for them is called.
   * @default none
   */
  onEvent?: EventListener
}

/** The options with every default filled in. */
export type ResolvedHttpResourcesOptions = Required<Omit<HttpResourcesOptions, 'tls' | 'onEvent'>> &
  Pick<HttpResourcesOptions, 'tls' | 'onEvent'>

/**
 * The defaults of `createHttpResources`.
 *
 * @example
 * createHttpResources({ requestTimeoutMs: resourceDefaults.requestTimeoutMs * 4 })
 */
export const resourceDefaults: Required<Omit<HttpResourcesOptions, 'tls' | 'onEvent'>> = {
  maxSockets: 256,
  freeSocketTimeoutMs: 30_000,
  thawThresholdMs: 4_000,
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 30_000,
  retryOnReset: true,
}

// Timers in Node.js take at most 2^31 - 1 ms.
const maxTimer = 2_147_483_647

export const resourceSchema = {
  maxSockets: {
    type: 'custom',
    expected: 'an integer >= 1 or Infinity',
    check: (value: unknown) =>
      value === Number.POSITIVE_INFINITY || (Number.isInteger(value) && (value as number) >= 1),
  },
  freeSocketTimeoutMs: { type: 'number', integer: true, min: 1, max: maxTimer },
  thawThresholdMs: { type: 'number', integer: true, min: 0, max: maxTimer },
  connectionTimeoutMs: { type: 'number', integer: true, min: 0, max: maxTimer, fix: 'use 0 for no timeout' },
  requestTimeoutMs: { type: 'number', integer: true, min: 0, max: maxTimer, fix: 'use 0 for no timeout' },
  retryOnReset: { type: 'boolean' },
  onEvent: { type: 'function' },
  tls: {
    type: 'custom',
    expected: `an object with TLS options (${tlsKeys.join(', ')})`,
    check: (value: unknown) =>
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      Object.keys(value).every((key) => tlsKeys.includes(key)),
  },
} as const satisfies OptionsSchema

/** Copies the options that are set (an explicit `undefined` keeps the default). */
export const withDefaults = <T extends object>(defaults: T, options: object): T => {
  const merged = { ...defaults } as Record<string, unknown>
  for (const [key, value] of Object.entries(options)) if (value !== undefined) merged[key] = value
  return merged as T
}

const describeTls = (value: unknown): unknown => {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  if (Array.isArray(value)) return value.map(describeTls)
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, describeTls((value as Record<string, unknown>)[key])]),
    )
  }
  return value
}

/**
 * A key that is equal for equal configurations. TLS material goes in as a hash only, so the key
 * never contains a private key or passphrase.
 */
export const fingerprint = (options: ResolvedHttpResourcesOptions): string => {
  const { tls, onEvent: _listener, ...plain } = options
  const fields = Object.keys(plain)
    .sort()
    .map((key) => `${key}=${String(plain[key as keyof typeof plain])}`)
  if (tls) {
    // node:crypto as its CommonJS object: its ESM namespace reads every export, webcrypto included.
    const digest = process
      .getBuiltinModule('node:crypto')
      .createHash('sha256')
      .update(JSON.stringify(describeTls(tls)))
      .digest('hex')
    fields.push(`tls=${digest}`)
  }
  return fields.join(';')
}
