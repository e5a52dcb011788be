// Instructions a fresh Node process executes to import one module, counted by valgrind's
// callgrind. On a shared virtual machine the CPU time of an import swings by 2× between runs of
// the same bench (page reclaim, neighbours), which drowns a few ms; the instruction count of the
// same process is the same to within 0.01% from run to run, once V8 is made deterministic:
// `--predictable` (no concurrent GC or compile threads) and fixed hash and random seeds; and with
// `--no-opt`, no optimising compiles (below).
// Slow (about 12 s a process), so bench/imports.mjs runs two at once; skipped without valgrind.
import { spawn, spawnSync } from 'node:child_process'

// `--no-opt`: with `--predictable`, TurboFan compiles on the main thread, inside the count, whenever
// a function of the process turns hot; a few KB more code moves those compiles in or out of the
// import (keepalive-agent's extra went from 5.8 M to 35.1 M between two builds; 15.4 to 15.7 M without).
// No garbage collection inside the count either: a collection starts when the process's heap
// crosses a threshold, wherever that falls, so a few KB more code moved a whole incremental
// mark-compact (~47 M) into downstream-guard's import between two builds, and scavenges moved a
// few M either way. The initial sizes below hold everything an import allocates; the count is
// then the import's own work (read, parse, compile, run), the same from build to build.
const nodeArgs = [
  '--predictable',
  '--no-opt',
  '--initial-old-space-size=128',
  '--min-semi-space-size=64',
  '--hash-seed=1',
  '--random-seed=1',
  '--input-type=module',
  '-e',
]

/** Whether valgrind runs here. */
export const haveValgrind = () => !spawnSync('valgrind', ['--version']).error

/** Instructions to start Node and import `url` (nothing when `url` is undefined). */
export const countInstructions = (url) =>
  new Promise((resolve, reject) => {
    const script = url === undefined ? '' : `await import(${JSON.stringify(url)})`
    const child = spawn(
      'valgrind',
      ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, ...nodeArgs, script],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => {
      const collected = /Collected : (\d+)/.exec(stderr)
      if (code === 0 && collected) resolve(Number(collected[1]))
      else
        reject(new Error(`callgrind of ${url ?? 'an empty process'} failed (${code}): ${stderr.slice(-500)}`))
    })
  })

/** Runs `tasks` (functions returning promises) at most `limit` at a time; results in order. */
export const inBatches = async (tasks, limit = 2) => {
  const results = new Array(tasks.length)
  let next = 0
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++
      results[index] = await tasks[index]()
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker))
  return results
}
