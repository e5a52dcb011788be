import { type OptionsSchema, portRule } from '@middy-downstream/core'

/**
 * The config fields every server-based engine checks at construction, named the same in errors;
 * `hostFix` names the engine's usual environment variable.
 */
export const serverConfigFields = (hostFix: string): OptionsSchema => ({
  host: { type: 'string', nonEmpty: true, fix: hostFix },
  port: portRule,
  user: { type: 'string', nonEmpty: true },
  password: {
    type: 'string',
    fix: 'pass the password as a string, or use the "password" option for a provider',
  },
  database: { type: 'string', nonEmpty: true },
})

/** The user named in a connection URL (`mysql://app:…@host/db`), if any. */
export const userFromUrl = (url: string | undefined): string | undefined => {
  if (!url) return undefined
  try {
    return decodeURIComponent(new URL(url).username) || undefined
  } catch {
    return undefined
  }
}
