// `pnpm check:packages` (and CI, after the consumer typecheck): packs every public package the way
// `npm publish` would and checks what a user would download. The tarball holds no build state
// (.tsbuildinfo) and no source maps, holds its LICENSE, README, every entry and every file a
// bundle loads (chunks, workers, loader hooks); package.json has
// the fields the registry's page shows; the README has no relative link (dead on that page);
// `publint --strict` and `attw` (Are the Types Wrong) find nothing. Also: no Markdown file in the
// repository links to a path outside it or to a file that does not exist. Importing an entry loads
// no Node builtin beyond what its driver loads (scripts/lib/import-builtins.mjs).
//
// attw runs with `--profile esm-only`: the packages are `type: module` and export only the
// `import` condition, so the two resolutions that profile leaves out are not ones we support:
// `node10` (TypeScript's old resolution, which knows no `exports`, so subpath entries cannot
// resolve there) and `node16` from CommonJS (our files are ESM: a CommonJS caller uses
// `await import()`). The ESM resolutions (`node16` from ESM, `bundler`) must be clean.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'
import { packagesByName } from '../bench/imports.mjs'
import { builtinLoadProblems } from './lib/import-builtins.mjs'
import {
  metadataProblems,
  missingFileProblems,
  readmeLinkProblems,
  tarballFileProblems,
} from './lib/package-rules.mjs'
import { pack, publicPackages, root, tarballFile } from './lib/packages.mjs'
import { repositoryLinkProblems } from './lib/repository-links.mjs'

const run = promisify(execFile)

const publintProblems = async (tarball) => {
  const buffer = readFileSync(tarball)
  const tarballBytes = buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength)
  const { messages, pkg } = await publint({ pack: { tarball: tarballBytes }, strict: true })
  return messages.map(
    (message) => `publint ${message.type}: ${formatMessage(message, pkg, { color: false })}`,
  )
}

const attwProblems = async (tarball) => {
  const attw = path.join(root, 'node_modules/.bin/attw')
  try {
    await run(attw, [tarball, '--profile', 'esm-only', '--format', 'table-flipped', '--no-color'])
    return []
  } catch (error) {
    return [`attw:\n${error.stdout || error.message}`]
  }
}

const checkPackage = async ({ dir }, destination) => {
  const { filename, files } = pack(dir, destination)
  const manifest = JSON.parse(tarballFile(filename, 'package.json'))
  const readme = files.includes('README.md') ? tarballFile(filename, 'README.md') : ''
  return [
    ...tarballFileProblems(files, manifest),
    ...missingFileProblems(files, (file) => tarballFile(filename, file)),
    ...metadataProblems(manifest, path.relative(root, dir)),
    ...readmeLinkProblems(readme),
    ...(await publintProblems(filename)),
    ...(await attwProblems(filename)),
  ]
}

const destination = mkdtempSync(path.join(tmpdir(), 'packages-'))
let failed = false
const report = (what, problems) => {
  console.log(`${problems.length === 0 ? 'ok  ' : 'FAIL'} ${what}`)
  for (const problem of problems) console.log(`       ${problem.replaceAll('\n', '\n       ')}`)
  failed ||= problems.length > 0
}
try {
  for (const entry of publicPackages()) report(entry.pkg.name, await checkPackage(entry, destination))
  const license = existsSync(path.join(root, 'LICENSE')) ? [] : ['the repository has no LICENSE']
  report('the repository: LICENSE, Markdown links', [...license, ...repositoryLinkProblems(root)])
  report('imports: no Node builtin beyond the driver', builtinLoadProblems(packagesByName()))
} finally {
  rmSync(destination, { recursive: true, force: true })
}
if (failed) {
  console.error('check:packages failed: fix the problems above (pnpm build first if dist/ is stale)')
  process.exitCode = 1
}
