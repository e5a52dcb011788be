import { rememberSecret } from './secrets.js'

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
