/** The command line, parsed. */
export interface CliArgs {
  url: string
  timeoutSeconds?: number
  connectionsPerEnvironment: number
  json: boolean
}

export const usage = `usage: middy-downstream-doctor doctor <connection URL> [--timeout <seconds>] [--connections-per-env <n>] [--json]

  <connection URL>          mysql://user:password@host:port/database or postgres://… (?sslmode=require for TLS)
  --timeout <seconds>       the function's timeout: gives the idle timeout to set for the Lambda user
  --connections-per-env <n> connections one environment opens (default 1)
  --json                    print JSON instead of the report`

const positiveNumber = (flag: string, value: string | undefined, integer: boolean): number => {
  const n = Number(value)
  if (value === undefined || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`${flag} needs a positive ${integer ? 'integer' : 'number'}`)
  }
  return n
}

/**
 * Parses `doctor <url> [flags]`; throws an Error with the usage problem (never echoing the URL).
 *
 * @example
 * parseArgs(['doctor', 'mysql://app@db/orders', '--timeout', '30'])
 */
export const parseArgs = (argv: string[]): CliArgs => {
  const [command, ...rest] = argv
  if (command !== 'doctor') throw new Error(command ? `unknown command "${command}"` : 'no command')
  const args: Partial<CliArgs> & { connectionsPerEnvironment: number; json: boolean } = {
    connectionsPerEnvironment: 1,
    json: false,
  }
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!
    if (arg === '--json') args.json = true
    else if (arg === '--timeout') args.timeoutSeconds = positiveNumber(arg, rest[++i], false)
    else if (arg === '--connections-per-env')
      args.connectionsPerEnvironment = positiveNumber(arg, rest[++i], true)
    else if (arg.startsWith('--')) throw new Error(`unknown flag ${arg}`)
    else if (args.url === undefined) args.url = arg
    else throw new Error('more than one connection URL')
  }
  if (args.url === undefined) throw new Error('no connection URL')
  return args as CliArgs
}
