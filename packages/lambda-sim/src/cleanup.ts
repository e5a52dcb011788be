import type { ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'

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
  for (const dir of directories) rmSync(dir, { recursive: true, force: true })
}
process.once('exit', onExit)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    onExit()
    process.exit(130)
  })
}

export const trackChild = (child: ChildProcess): ChildProcess => {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

export const trackDirectory = (dir: string): string => {
  directories.add(dir)
  return dir
}

export const forgetDirectory = (dir: string): void => {
  directories.delete(dir)
  rmSync(dir, { recursive: true, force: true })
}

/** Resolves when the child has exited (immediately if it already has). */
export const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()))
