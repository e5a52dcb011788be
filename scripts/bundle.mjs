// The second half of `pnpm build`: after `tsc -b` has written each package's declarations, bundles
// each public package's entries (its `exports`, its `bin`, and the files it loads by URL at run
// time) with esbuild into one ESM file each in dist/. Importing ~20 small files cost a Lambda
// cold start ~30 ms more than importing one (issue 15); `pnpm bench` measures it (bench/imports.mjs).
//
// Every bare specifier stays external: drivers, peer dependencies, dependencies, our other
// packages (one shared copy of core's registry) and node builtins. Entries of one package share
// code through chunks next to them (code splitting), so `db-connection` and
// `db-connection/postgres` loaded together still have one class per error, while each entry
// loads only its own driver. No source maps: they would point at src/, which is not shipped, and
// the bundles are not minified, so a stack trace already shows readable code and real names.
import { readdirSync, rmSync, statSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { publicPackages } from './lib/packages.mjs'

/** Files a package loads by URL next to its own module (workers, child processes, loader hooks). */
const runtimeEntries = {
  '@middy-downstream/lambda-sim': ['environment-runner', 'worker-runner', 'middy-resolve-hook'],
}

/**
 * Entries bundled on their own instead of sharing chunks with the package's other entries: each
 * shared chunk is one more file for every entry that loads it to resolve, read, compile and link
 * (about 0.5 ms of a cold start on a slow machine). `core/lite` holds no class and no state that
 * must be single (its warnings are keyed per package, and `firstInEnvironment` already agrees
 * across copies through its marker file), so its own copy of that code costs nothing, and
 * core's main entry stays one file.
 */
const standaloneEntries = {
  '@middy-downstream/core': ['lite'],
}

/** `./dist/postgres.js` → `postgres`: the entry's name, which is also its source file's. */
const entryName = (target) => {
  const match = /^\.\/dist\/(.+)\.js$/.exec(target)
  if (!match) throw new Error(`unexpected entry ${target}: entries must be ./dist/<name>.js`)
  return match[1]
}

/** The entries a package publishes: each `exports` import target, each `bin`, and runtime files. */
export const entriesOf = (pkg) => {
  const targets = Object.values(pkg.exports ?? {})
    .map((target) => (typeof target === 'string' ? target : target.import))
    .filter((target) => target?.startsWith('./dist/'))
  const bins = typeof pkg.bin === 'string' ? [pkg.bin] : Object.values(pkg.bin ?? {})
  const names = [...targets, ...bins].map(entryName)
  return [...new Set([...names, ...(runtimeEntries[pkg.name] ?? [])])]
}

/** Removes what an earlier build emitted as JavaScript (tsc's per-file output, old chunks, maps). */
const removeEmittedCode = (dir) => {
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name)
    if (statSync(file).isDirectory()) removeEmittedCode(file)
    else if (/\.(js|js\.map|d\.ts\.map)$/.test(name)) rmSync(file)
  }
}

export const bundlePackage = async ({ dir, pkg }) => {
  const dist = path.join(dir, 'dist')
  removeEmittedCode(dist)
  const standalone = standaloneEntries[pkg.name] ?? []
  const entryPoints = (names) =>
    Object.fromEntries(names.map((name) => [name, path.join(dir, 'src', `${name}.ts`)]))
  const shared = entriesOf(pkg).filter((name) => !standalone.includes(name))
  await Promise.all([
    bundle(dist, pkg, entryPoints(shared), true),
    ...standalone.map((name) => bundle(dist, pkg, entryPoints([name]), false)),
  ])
}

const bundle = (dist, pkg, entryPoints, splitting) =>
  build({
    entryPoints,
    outdir: dist,
    bundle: true,
    splitting,
    format: 'esm',
    platform: 'node',
    target: `node${pkg.engines.node.replace(/^>=/, '')}`,
    packages: 'external',
    chunkNames: 'chunk-[hash]',
    legalComments: 'none',
    logLevel: 'warning',
  })

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const packages = publicPackages()
  await Promise.all(packages.map(bundlePackage))
  // The private test harness keeps tsc's per-file output: nothing installs it.
  const count = packages.reduce((sum, { pkg }) => sum + entriesOf(pkg).length, 0)
  console.log(`bundled ${count} entries of ${packages.length} packages`)
}
