// Other packages' own overhead benchmarks (packages/<name>/bench/overhead.mjs), run as child
// processes when present; their printed output goes into RESULTS.md as it is, except lines
// `GOAL {"goal", "met", "measured"}`, which join the goal table.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'

export const childBenchPackages = [
  'db-connection',
  'redis-connection',
  'mongo-connection',
  'keepalive-agent',
  'downstream-guard',
]

const run = (script, cwd, timeoutMs) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    const started = performance.now()
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, elapsedMs: performance.now() - started })
    })
  })

/** Runs each package's bench/overhead.mjs that exists; never throws. */
export const runChildBenches = async ({ root, timeoutMs = 180_000, onStart } = {}) => {
  const results = []
  for (const name of childBenchPackages) {
    const script = path.join(root, 'packages', name, 'bench', 'overhead.mjs')
    if (!existsSync(script)) {
      results.push({ name, status: 'missing', script: path.relative(root, script) })
      continue
    }
    onStart?.(name)
    const outcome = await run(script, root, timeoutMs)
    const lines = outcome.stdout.split('\n')
    const goals = lines.filter((line) => line.startsWith('GOAL ')).map((line) => JSON.parse(line.slice(5)))
    outcome.stdout = lines.filter((line) => !line.startsWith('GOAL ')).join('\n')
    results.push({
      name,
      script: path.relative(root, script),
      status: outcome.signal
        ? `killed after ${timeoutMs / 1000} s`
        : outcome.code === 0
          ? 'ok'
          : `exit ${outcome.code}`,
      ...outcome,
      goals,
    })
  }
  return results
}
