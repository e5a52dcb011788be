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
