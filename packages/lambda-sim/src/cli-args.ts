import { parseArgs } from 'node:util'
import { suggestFlag } from './did-you-mean.js'
import type { FleetOptions } from './fleet-options.js'
import type { Phase } from './profile.js'

/**
 * The `lambda-sim` command line.
 *
 * @example
 * console.log(usage)
 */
export const usage = `usage: lambda-sim <handler module> [options]

Runs a handler module on a fleet of simulated Lambda environments and prints the results.

  --export <name>        exported handler (default handler)
  --timeout <ms>         function timeout per invocation (default 3000)
  --max-envs <n>         at most this many environments at once (default 50)
  --per-env <n>          invocations per environment at once: Lambda Managed Instances (default 1)
  --profile <file.json>  traffic profile: phases [{ "concurrency", "invocations", "pauseMs", "reap", "event", "name" }]
  --concurrency <n>      without --profile: one phase at this concurrency (default 1)
  --invocations <n>      without --profile: invocations in that phase (default: the concurrency)
  --event <json>         the event of every invocation (default {})
  --env <KEY=VALUE>      an environment variable for the environments (repeatable)
  --no-freeze            do not freeze environments between invocations
  --json                 print the results as JSON instead of a table
  --version              the version of lambda-sim
  -h, --help             this text`

/** A command line the CLI cannot run; the message says why. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/**
 * What the command line asks for: `profilePath` when `--profile` is given (the caller reads the
 * file), else `profile`.
 *
 * @example
 * const { fleet, profile, json } = parseCliArgs(['handler.mjs', '--concurrency', '10', '--json'])
 */
export interface CliArgs {
  help: boolean
  /** `--version`: print the version and run nothing. */
  version?: true
  json: boolean
  fleet: FleetOptions
  profile?: Phase[]
  profilePath?: string
}

const integer = (flag: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  const number = Number(value)
  if (!Number.isInteger(number) || number < 1)
    throw new UsageError(`--${flag} must be a whole number >= 1, got ${JSON.stringify(value)}`)
  return number
}

/**
 * Parses `lambda-sim` arguments (without `node` and the script) with `node:util` `parseArgs`.
 * Throws a `UsageError` for anything it cannot run.
 *
 * @example
 * parseCliArgs(['handler.mjs', '--concurrency', '10', '--invocations', '100', '--json'])
 * // { help: false, json: true, fleet: { module: 'handler.mjs', ... }, profile: [{ concurrency: 10, invocations: 100 }] }
 */
export const parseCliArgs = (args: readonly string[]): CliArgs => {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(args)
  } catch (error) {
    throw parseError(error as Error & { code?: string })
  }
  const { values, positionals } = parsed
  if (values.help) return { help: true, json: false, fleet: { module: '' } }
  if (values.version) return { help: false, version: true, json: false, fleet: { module: '' } }
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0
        ? 'the handler module is missing'
        : `one handler module, got ${positionals.length}`,
    )
  if (values.profile !== undefined && (values.concurrency !== undefined || values.invocations !== undefined))
    throw new UsageError('--profile and --concurrency/--invocations are exclusive')
  let event: unknown
  if (values.event !== undefined) {
    try {
      event = JSON.parse(values.event)
    } catch (error) {
      throw new UsageError(`--event is not JSON: ${(error as Error).message}`)
    }
  }
  const env: Record<string, string> = {}
  for (const pair of values.env ?? []) {
    const at = pair.indexOf('=')
    if (at < 1) throw new UsageError(`--env wants KEY=VALUE, got ${JSON.stringify(pair)}`)
    env[pair.slice(0, at)] = pair.slice(at + 1)
  }
  const timeoutMs = integer('timeout', values.timeout)
  const maxEnvironments = integer('max-envs', values['max-envs'])
  const perEnvironmentConcurrency = integer('per-env', values['per-env'])
  const fleet: FleetOptions = {
    module: positionals[0]!,
    ...(values.export === undefined ? {} : { exportName: values.export }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(maxEnvironments === undefined ? {} : { maxEnvironments }),
    ...(perEnvironmentConcurrency === undefined ? {} : { perEnvironmentConcurrency }),
    ...(values['no-freeze'] ? { freezeBetweenInvocations: false } : {}),
    ...(Object.keys(env).length === 0 ? {} : { env }),
    ...(event === undefined ? {} : { event }),
  }
  const json = values.json ?? false
  if (values.profile !== undefined) return { help: false, json, fleet, profilePath: values.profile }
  const concurrency = integer('concurrency', values.concurrency) ?? 1
  const invocations = integer('invocations', values.invocations) ?? concurrency
  return { help: false, json, fleet, profile: [{ concurrency, invocations }] }
}

const options = {
  export: { type: 'string' },
  timeout: { type: 'string' },
  'max-envs': { type: 'string' },
  'per-env': { type: 'string' },
  profile: { type: 'string' },
  concurrency: { type: 'string' },
  invocations: { type: 'string' },
  event: { type: 'string' },
  env: { type: 'string', multiple: true },
  'no-freeze': { type: 'boolean' },
  json: { type: 'boolean' },
  version: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

const parse = (args: readonly string[]) =>
  parseArgs({ args: [...args], allowPositionals: true, strict: true, options })

/** parseArgs' own message for an unknown flag is about positionals; ours names the flag meant. */
const parseError = (error: Error & { code?: string }): UsageError => {
  const flag = /'(-[^']*)'/.exec(error.message)?.[1]
  if (error.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || flag === undefined)
    return new UsageError(error.message)
  const near = suggestFlag(
    flag.split('=', 1)[0]!,
    Object.keys(options).map((name) => `--${name}`),
  )
  return new UsageError(`unknown option ${flag}${near ? `: did you mean ${near}?` : ''}`)
}
