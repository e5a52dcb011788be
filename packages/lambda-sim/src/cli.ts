#!/usr/bin/env node
/**
 * `lambda-sim <handler module> [options]`: runs a handler on a fleet of simulated Lambda
 * environments and prints a results table (or JSON with `--json`). Exit status: 0 when the run
 * completed (whatever its invocations returned), 2 for a bad command line, 1 when the run could
 * not complete.
 */
import { readFileSync } from 'node:fs'
import { exitOnSignals } from './cleanup.js'
import { parseCliArgs, UsageError, usage } from './cli-args.js'
import { Fleet } from './fleet.js'
import { formatResults } from './format-results.js'
import { describePhase, parseProfile } from './profile.js'

const readProfile = (file: string): unknown => {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new UsageError(`--profile: cannot read ${file} (${(error as NodeJS.ErrnoException).code})`)
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UsageError(`--profile: ${file} is not JSON: ${(error as Error).message}`)
  }
}

/** This package's version: dist/cli.js sits one folder below package.json, as src/cli.ts does. */
const version = (): string =>
  (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
    .version

const main = async (): Promise<number> => {
  // Only the CLI owns the process: a library import leaves signals alone (sideEffects: false).
  exitOnSignals()
  let args: ReturnType<typeof parseCliArgs>
  let fleet: Fleet
  let profile: ReturnType<typeof parseProfile>
  try {
    args = parseCliArgs(process.argv.slice(2))
    if (args.help) {
      console.log(usage)
      return 0
    }
    if (args.version) {
      console.log(version())
      return 0
    }
    profile = parseProfile(args.profilePath ? readProfile(args.profilePath) : args.profile)
    const progress = process.stderr.isTTY
    fleet = new Fleet({
      // With --json, stdout carries the results only: what the handlers print goes to stderr.
      ...(args.json ? { output: 'stderr' as const } : {}),
      ...args.fleet,
      ...(progress
        ? {
            onProgress: ({ phase, name, done, total, failures }) =>
              process.stderr.write(
                `\r\x1b[Kphase ${phase} ${name ?? describePhase(profile[phase]!)}: ${done}/${total}, ${failures} failed`,
              ),
            afterPhase: () => {
              process.stderr.write('\r\x1b[K')
            },
          }
        : {}),
    })
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof TypeError)) throw error
    console.error(`lambda-sim: ${error.message}\nsee lambda-sim --help`)
    return 2
  }
  const results = await fleet.run(profile)
  console.log(args.json ? JSON.stringify(results, null, 2) : formatResults(results))
  return 0
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    console.error('lambda-sim:', error)
    process.exitCode = 1
  },
)
