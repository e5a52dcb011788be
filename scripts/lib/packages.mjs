// The public packages of the workspace and their packed tarballs, shared by the package checks
// and the consumer typecheck so both look at exactly what `npm publish` would upload.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

export const root = path.resolve(import.meta.dirname, '../..')
export const repoUrl = 'https://github.com/middy-downstream/middy-downstream'

/** Every package under packages/ that is not `private`, as { dir, pkg }. */
export function publicPackages() {
  const base = path.join(root, 'packages')
  return readdirSync(base)
    .map((name) => path.join(base, name))
    .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) }))
    .filter(({ pkg }) => pkg.private !== true)
}

/** Packs one package (workspace: ranges become versions, as on publish): { filename, files }. */
export function pack(dir, destination) {
  mkdirSync(destination, { recursive: true })
  const out = execFileSync('pnpm', ['pack', '--json', '--pack-destination', destination], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const { filename, files } = JSON.parse(out)
  return { filename, files: files.map((file) => file.path) }
}

/** One file's text from a tarball. */
export function tarballFile(tarball, file) {
  return execFileSync('tar', ['-xzOf', tarball, `package/${file}`], { encoding: 'utf8' })
}
