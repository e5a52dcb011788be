import type { OptionsSchema } from './options.js'

/**
 * An option of another library users migrate from (serverless-mysql, `@middy/rds`, …) and what to
 * do here instead.
 *
 * @example
 * const alias: OptionAlias = { from: 'serverless-mysql', use: 'utilizationThreshold' }
 */
export interface OptionAlias {
  /** The library the name comes from, e.g. `serverless-mysql`. */
  from: string
  /**
   * The option to use here (a name, or a path such as `retry.maxAttempts`).
   * @default none (there is no direct equivalent: `note` says why)
   */
  use?: string
  /**
   * What else to know: how the values differ, or why the option is not needed.
   * @default none
   */
  note?: string
}

/** Known foreign option names, by name. */
export type OptionAliases = Readonly<Record<string, OptionAlias>>

const aliasesBySchema = new WeakMap<OptionsSchema, OptionAliases>()

/**
 * Attaches to a schema the option names of other libraries, so that `validateOptions` answers
 * such a name with what to use instead (a "did you mean" that edit distance cannot find:
 * `connUtilization` is nothing like `utilizationThreshold`). Returns the schema.
 *
 * @example
 * export const schema = withAliases({ utilizationThreshold: { type: 'number' } }, {
 *   connUtilization: { from: 'serverless-mysql', use: 'utilizationThreshold' },
 * })
 */
export const withAliases = <S extends OptionsSchema>(schema: S, aliases: OptionAliases): S => {
  aliasesBySchema.set(schema, aliases)
  return schema
}

/** The hint for an unknown option that is another library's name, e.g. `did you mean "x"? …`. */
export const aliasHint = (schema: OptionsSchema, name: string): string | undefined => {
  const aliases = aliasesBySchema.get(schema)
  if (!aliases || !Object.hasOwn(aliases, name)) return undefined
  const { from, use, note } = aliases[name]!
  const origin = `"${name}" is a ${from} option`
  const instead = use ? `did you mean "${use}"? ${origin}` : `${origin} with no equivalent here`
  return note ? `${instead}: ${note}` : instead
}
