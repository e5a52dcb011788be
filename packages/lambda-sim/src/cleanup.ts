import type { ChildProcess } from 'node:child_process'
import { fs } from './builtins.js'

const children = new Set<ChildProcess>()
const directories = new Set<string>()

/**
 * Kills every child this process started and removes its temp dirs when it exits, even after a
 * failed test: a server or environment must never outlive the test run. Frozen children are
 * killed with SIGKILL, which works on a stopped process.
 */
const onExit = () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL')
      } catch {}
    }
  }
  for (const dir of directories) fs().rmSync(dir, { recursive: true, force: true })
}
let exitHookInstalled = false
/** Installed with the first thing to clean up, not at import: the package has no side effects. */
const cleanUpOnExit = () => {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', onExit)
}

let signalsInstalled = false
/**
 * Makes SIGINT and SIGTERM clean up (kill the children, remove the temp dirs) and exit with
 * 128 + the signal's number, as a shell reports it. For a process that owns its signals: the
 * `lambda-sim` CLI, a test harness. Importing the package never installs them. Idempotent.
 *
 * @example
 * exitOnSignals() // at the top of a script that runs a Fleet
 */
export const exitOnSignals = (): void => {
  if (signalsInstalled) return
  signalsInstalled = true
  for (const [signal, number] of [
    ['SIGINT', 2],
    ['SIGTERM', 15],
  ] as const) {
    process.once(signal, () => {
      onExit()
      process.exit(128 + number)
    })
  }
}

export const trackChild = (child: ChildProcess): ChildProcess => {
  cleanUpOnExit()
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

export const trackDirectory = (dir: string): string => {
  cleanUpOnExit()
  directories.add(dir)
  return dir
}

export const forgetDirectory = (dir: string): void => {
  directories.delete(dir)
  fs().rmSync(dir, { recursive: true, force: true })
}

/** Resolves when the child has exited (immediately if it already has). */
export const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()))
