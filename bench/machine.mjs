// The machine and the versions a benchmark ran with, for RESULTS.md.
import { readFileSync } from 'node:fs'
import os from 'node:os'

const root = new URL('../', import.meta.url)

/** The version installed at the repository root (some packages do not export package.json). */
const versionOf = (name) => {
  try {
    return JSON.parse(readFileSync(new URL(`node_modules/${name}/package.json`, root), 'utf8')).version
  } catch {
    return 'not installed'
  }
}

const cpuModel = () => {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'))
    return line ? line.split(':')[1].trim() : os.cpus()[0]?.model
  } catch {
    return os.cpus()[0]?.model ?? 'unknown'
  }
}

/** Machine and versions; `server` (a MariaDbServer) adds the MariaDB version. */
export const describeMachine = async (server) => {
  const [mariadb] = server ? await server.sql('SELECT VERSION() AS v') : [{ v: 'not started' }]
  return {
    date: new Date().toISOString(),
    cpu: cpuModel(),
    cores: os.cpus().length,
    memoryGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    loadAverage: os.loadavg().map((l) => l.toFixed(2)),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    middy: versionOf('@middy/core'),
    mysql2: versionOf('mysql2'),
    serverlessMysql: versionOf('serverless-mysql'),
    tinybench: versionOf('tinybench'),
    mariadb: mariadb.v,
  }
}

/** The machine's CPU time so far, busy and idle (Linux's /proc/stat), or undefined elsewhere. */
const cpuTimes = () => {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
    const idle = fields[3] + (fields[4] ?? 0)
    return { idle, total: fields.reduce((a, b) => a + b, 0) }
  } catch {
    return undefined
  }
}

/**
 * Waits (at most `maxMs`) until the machine is mostly idle over a second: work that just ended
 * (a storm's environments and servers winding down) otherwise adds to the first figures. Returns
 * the idle share seen last.
 */
export const waitForQuiet = async ({ idleShare = 0.85, maxMs = 120_000 } = {}) => {
  const deadline = Date.now() + maxMs
  for (;;) {
    const before = cpuTimes()
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const after = cpuTimes()
    if (!before || !after) return undefined
    const share = (after.idle - before.idle) / Math.max(1, after.total - before.total)
    if (share >= idleShare || Date.now() > deadline) return share
  }
}
