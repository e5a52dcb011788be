import { crypto, fs, os, path } from './builtins.js'

/** This process's start time (Linux), so a recycled pid never inherits another process's markers. */
const processStart = (): string => {
  try {
    const stat = fs().readFileSync('/proc/self/stat', 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? ''
  } catch {
    return ''
  }
}

const seen = new Set<string>()

/**
 * True the first time `key` is asked for in this execution environment, across the worker threads
 * of Lambda Managed Instances (each has its own module scope, so a module-level flag would say
 * "first" once per worker): the first asker creates a marker file exclusively.
 *
 * @example
 * if (firstInEnvironment('my-package:concurrency')) console.warn('...')
 */
export const firstInEnvironment = (key: string): boolean => {
  if (seen.has(key)) return false
  seen.add(key)
  const digest = crypto().createHash('sha256').update(key).digest('hex').slice(0, 16)
  const marker = path().join(
    os().tmpdir(),
    `middy-downstream-once-${process.pid}-${processStart()}-${digest}`,
  )
  try {
    fs().closeSync(fs().openSync(marker, 'wx'))
    return true
  } catch {
    return false
  }
}
