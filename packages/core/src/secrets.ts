/**
 * The secrets to cut out, most recently seen last. Bounded: an IAM token provider hands out a new
 * token every few minutes for the life of the environment, and an unbounded set made `redact`
 * slower and the heap larger with every one. The newest secrets are the ones still in use.
 */
const known = new Map<string, true>()
const maxKnownSecrets = 64

/** Credentials in URLs: `scheme://user:password@host` keeps the user, hides the password. */
const urlCredentials = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):([^@/\s]+)@/gi

/**
 * Remembers a secret so it is cut out of every error message, event and log line this process
 * produces afterwards. Secrets shorter than 4 characters are not tracked: replacing them would
 * mangle ordinary words, and no real credential is that short.
 */
export const rememberSecret = (secret: string | undefined): void => {
  if (!secret || secret.length < 4) return
  known.delete(secret)
  known.set(secret, true)
  if (known.size > maxKnownSecrets) known.delete(known.keys().next().value as string)
}

/** How many secrets are remembered now (bounded). */
export const rememberedSecretCount = (): number => known.size

/** Replaces remembered secrets and URL passwords in a text with `***`. */
export const redact = (text: string): string => {
  let result = text.replace(urlCredentials, '$1:***@')
  for (const secret of known.keys()) if (result.includes(secret)) result = result.split(secret).join('***')
  return result
}

/**
 * Scrubs secrets from an error's message and stack, and from its causes, in place: the error
 * keeps its class, `code` and `errno`, so callers can still match on them.
 */
export const redactError = <T>(error: T, depth = 0): T => {
  if (depth > 5 || typeof error !== 'object' || error === null) return error
  const e = error as { message?: unknown; stack?: unknown; cause?: unknown; sql?: unknown }
  try {
    if (typeof e.message === 'string') e.message = redact(e.message)
    if (typeof e.stack === 'string') e.stack = redact(e.stack)
  } catch {
    // a frozen error keeps its text; nothing else to do
  }
  if (e.cause !== undefined) redactError(e.cause, depth + 1)
  return error
}
