import { rememberSecret } from '@middy-downstream/core'

/** A connection URL taken apart, its password remembered so no message can print it. */
export interface Endpoint {
  engine: 'mysql' | 'postgres'
  host: string
  port: number
  user: string
  password?: string
  database?: string
  /** `disable` (default), `require` (TLS, any certificate) or `verify-full` (TLS, checked). */
  tls: 'disable' | 'require' | 'verify-full'
  /** The URL without its password, for messages and output. */
  display: string
}

const schemes: Record<string, Endpoint['engine']> = {
  'mysql:': 'mysql',
  'mariadb:': 'mysql',
  'postgres:': 'postgres',
  'postgresql:': 'postgres',
}

const tlsModes: Record<string, Endpoint['tls']> = {
  disable: 'disable',
  false: 'disable',
  require: 'require',
  true: 'require',
  'verify-ca': 'verify-full',
  'verify-full': 'verify-full',
}

/**
 * Parses `mysql://user:password@host:port/database?sslmode=require` (or `postgres://…`). Throws an
 * Error whose message never contains the password.
 *
 * @example
 * parseEndpoint('postgres://app:secret@db.internal:5432/orders').display // postgres://app@db.internal:5432/orders
 */
export const parseEndpoint = (text: string): Endpoint => {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new Error('the connection URL is not a URL; expected mysql://user:password@host:port/database')
  }
  const password = url.password ? decodeURIComponent(url.password) : undefined
  rememberSecret(password)
  rememberSecret(url.password || undefined)
  const engine = schemes[url.protocol]
  if (!engine) {
    throw new Error(
      `unsupported scheme "${url.protocol}": use mysql://, mariadb://, postgres:// or postgresql://`,
    )
  }
  const mode = url.searchParams.get('sslmode') ?? url.searchParams.get('ssl') ?? 'disable'
  const tls = tlsModes[mode]
  if (!tls) throw new Error(`unknown sslmode "${mode}": use disable, require or verify-full`)
  const user = decodeURIComponent(url.username) || (engine === 'mysql' ? 'root' : 'postgres')
  const port = url.port ? Number(url.port) : engine === 'mysql' ? 3306 : 5432
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || undefined
  return {
    engine,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    user,
    ...(password === undefined ? {} : { password }),
    ...(database === undefined ? {} : { database }),
    tls,
    display: `${url.protocol}//${encodeURIComponent(user)}@${url.host}/${database ?? ''}`,
  }
}
