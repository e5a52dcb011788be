import { redact, rememberSecret } from './secrets.js'
import { withTimeout } from './sleep.js'

/** A secret as a value, or a function that returns a fresh one (e.g. an RDS IAM token). */
export type SecretSource = string | (() => string | Promise<string>) | undefined

/** Resolves a secret source and remembers the result so it is redacted everywhere. */
export const resolveSecret = async (source: SecretSource): Promise<string | undefined> => {
  const secret = typeof source === 'function' ? await source() : source
  if (secret !== undefined && typeof secret !== 'string') {
    throw new TypeError('the password provider must return a string')
  }
  rememberSecret(secret)
  return secret
}

/**
 * The password provider threw, returned something other than a string, or did not answer in
 * time. Its message never holds a secret; the provider's own error is its `cause`. Each package
 * wraps it in its own error class (a `ConnectError`): no connection was opened.
 */
export class CredentialError extends Error {
  override readonly name = 'CredentialError'
  readonly code?: string

  constructor(detail: string, options: { cause: unknown; code?: string }) {
    super(`the password provider failed (${detail})`, { cause: options.cause })
    if (options.code !== undefined) this.code = options.code
  }
}

const detailOf = (error: unknown): string =>
  redact(String((error as { message?: unknown } | null)?.message ?? error))
    .replace(/\s+/g, ' ')
    .slice(0, 300)

/**
 * Where a connection's secret comes from: a value, asked for nothing, or a provider (an IAM token
 * signer, a Secrets Manager read), asked right before each new connection so every connection
 * uses a fresh token. Every answer is remembered for redaction. Shared by every connection of a
 * managed client; what one connect learns (the secret it got, whether it refreshed) lives in its
 * own `ConnectCredentials`, never in a field concurrent invocations share.
 *
 * @example
 * const credentials = new CredentialSource(() => signer.getAuthToken())
 * const secret = await credentials.fetch(deadline.bound(connectTimeoutMs))
 */
export class CredentialSource {
  readonly #source: SecretSource

  constructor(source: SecretSource) {
    this.#source = source
  }

  /** A provider: asked for every new connection, and asked again after the server rejected its answer. */
  get refreshable(): boolean {
    return typeof this.#source === 'function'
  }

  /**
   * The secret for one new connection. A provider is asked now and must answer within
   * `timeoutMs` (the caller bounds it by the deadline); a failure rejects with `CredentialError`.
   */
  async fetch(timeoutMs: number): Promise<string | undefined> {
    if (!this.refreshable) return resolveSecret(this.#source)
    try {
      return await withTimeout(resolveSecret(this.#source), timeoutMs, () =>
        Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }),
      )
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code
      throw new CredentialError(detailOf(error), {
        cause: error,
        ...(typeof code === 'string' ? { code } : {}),
      })
    }
  }

  /** One connect's view: the secret fetched once for its attempts, refreshed once after a rejection. */
  forConnect(): ConnectCredentials {
    return new ConnectCredentials(this)
  }

  /** What a logged source shows: whether it is a provider, never the secret. */
  toJSON(): object {
    return { provider: this.refreshable }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `CredentialSource ${JSON.stringify(this.toJSON())}`
  }
}

/**
 * The credentials of one connect (its attempts and retries): the secret is fetched for the first
 * attempt and reused by the next ones, unless the server rejected it; then, for a provider only
 * and only once, the next attempt asks again (an expired token). A second rejection is final: no
 * loop between a server and a provider that keeps answering the same wrong secret.
 *
 * @example
 * const credentials = source.forConnect()
 * const secret = await credentials.secret(timeoutMs)
 * if (rejected && credentials.refreshAfterRejection()) retry()
 */
export class ConnectCredentials {
  readonly #source: CredentialSource
  #fetched = false
  #secret: string | undefined
  #refreshed = false

  constructor(source: CredentialSource) {
    this.#source = source
  }

  /** The secret for this connect's next attempt: fetched on first use and after a refresh. */
  async secret(timeoutMs: number): Promise<string | undefined> {
    if (!this.#fetched) {
      this.#secret = await this.#source.fetch(timeoutMs)
      this.#fetched = true
    }
    return this.#secret
  }

  /**
   * The server rejected the credentials: true when the next attempt should ask the provider again
   * (a provider, and not refreshed before in this connect); false when the rejection is final.
   */
  refreshAfterRejection(): boolean {
    if (!this.#source.refreshable || this.#refreshed) return false
    this.#refreshed = true
    this.#fetched = false
    this.#secret = undefined
    return true
  }

  toJSON(): object {
    return { fetched: this.#fetched, refreshed: this.#refreshed }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `ConnectCredentials ${JSON.stringify(this.toJSON())}`
  }
}
