// Installs the real Lambda Node.js runtime interface client (npm `aws-lambda-ric`, the client
// behind the Node 24 runtime) into .ric/, outside the workspace's node_modules, for the tier that
// runs the examples under it (`pnpm test:ric`). Run on Node 24, as Lambda's Node 24 runtime runs
// it (`node scripts/with-node.mjs 24 scripts/install-ric.mjs`): the client needs Node 22+.
//
// The package ships no prebuilt addon: its install scripts build curl and aws-lambda-cpp from the
// sources inside it, then the addon with node-gyp (cmake, make, g++, python3; about a minute on
// two cores). node-gyp takes Node's headers from the running Node's npm package (`nodedir`), so nothing is
// downloaded but the npm package. The scripts are run here, not by npm, so an npm that holds back
// install scripts cannot leave a client without its addon.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'

export const ricVersion = '4.0.2'
const prefix = path.resolve('.ric')
const packageDir = path.join(prefix, 'node_modules/aws-lambda-ric')
const addon = path.join(packageDir, 'rapid-client.node')

const installedVersion = () => {
  try {
    return JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')).version
  } catch {
    return undefined
  }
}

if (Number(process.versions.node.split('.')[0]) < 22) {
  console.error('install-ric: run on Node 22+ (node scripts/with-node.mjs 24 scripts/install-ric.mjs)')
  process.exit(1)
}
if (installedVersion() === ricVersion && existsSync(addon)) process.exit(0)

const missing = ['cmake', 'make', 'g++', 'python3'].filter((tool) => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' })
    return false
  } catch {
    return true
  }
})
if (missing.length) {
  console.error(`install-ric: ${missing.join(', ')} missing (scripts/bootstrap.sh installs them)`)
  process.exit(1)
}

console.error(`==> installing aws-lambda-ric ${ricVersion} into .ric/ (builds its native addon)`)
rmSync(prefix, { recursive: true, force: true })
mkdirSync(prefix)
const env = {
  ...process.env,
  // Headers for node-gyp from the running Node, and its node first in PATH for the build.
  npm_config_nodedir: path.dirname(path.dirname(process.execPath)),
  PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`,
}
const run = (command, args, cwd) => {
  try {
    execFileSync(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 })
  } catch (error) {
    const output = `${error.stdout ?? ''}${error.stderr ?? ''}`
    console.error(output.split('\n').slice(-40).join('\n'))
    rmSync(prefix, { recursive: true, force: true })
    throw new Error(`install-ric: ${command} ${args.join(' ')} failed`)
  }
}
run(
  'npm',
  [
    'install',
    '--prefix',
    prefix,
    '--no-save',
    '--no-package-lock',
    '--ignore-scripts',
    `aws-lambda-ric@${ricVersion}`,
  ],
  prefix,
)
run('sh', ['scripts/preinstall.sh'], packageDir)
run('sh', ['scripts/postinstall.sh'], packageDir)
if (!existsSync(addon)) throw new Error(`install-ric: ${addon} was not built`)
