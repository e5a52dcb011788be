// Cold-start cost of each public package as a user's function meets it without a bundler. Each
// figure is a fresh Node process importing one handler module, a file on disk as Lambda loads it:
// - the baseline handler imports `@middy/core` and the third-party modules the entry loads (its
//   driver: mysql2, pg, ioredis, mongodb, undici, …);
// - the measured handler imports `@middy/core` and the entry.
// Median over fresh processes run alternately; the difference is what our own code costs at cold
// start (core's included). A handler file on both sides, and `@middy/core` in both, because every
// function using our middlewares is such a file: the first ESM file a process loads and its first
// package resolution cost several ms that the function pays whether or not it uses us (importing
// the bare specifiers straight from `-e` charged those to our ESM entries, not to CommonJS drivers).
// Also the minified size of each package's own code (every bare import left out, as in dist/).
//
//   pnpm build && node bench/imports.mjs [package …]
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { entriesOf } from '../scripts/bundle.mjs'
import { publicPackages } from '../scripts/lib/packages.mjs'
import { countInstructions, haveValgrind, inBatches } from './instructions.mjs'
import { median } from './stats.mjs'

const ourScope = '@middy-downstream/'
const isBuiltin = (specifier) => specifier.startsWith('node:') || builtinModules.includes(specifier)

/** Static imports of one ESM file (esbuild's output: one statement per import, `;`-terminated). */
const staticImports = (file) =>
  [
    ...readFileSync(file, 'utf8').matchAll(
      /^(?:import|export)\s[^;]*?\sfrom\s*"([^"]+)";|^import\s*"([^"]+)";/gms,
    ),
  ].map((match) => match[1] ?? match[2])

/** The dist file an `exports` key of one of our packages points at. */
export const entryFile = (dir, pkg, subpath) => path.join(dir, pkg.exports[subpath].import)

/** An empty ESM file (scripts/lib/import-builtins.mjs starts its processes with it). */
export const emptyModule = () => {
  const file = path.join(import.meta.dirname, 'out', 'empty.mjs')
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, '')
  return pathToFileURL(file).href
}

export const packagesByName = () => new Map(publicPackages().map((entry) => [entry.pkg.name, entry]))

/**
 * The modules an entry loads at import time, through its chunks and our other packages:
 * { thirdParty, builtins }, bare specifiers each.
 */
export const importsOf = (
  file,
  byName,
  found = { thirdParty: new Set(), builtins: new Set() },
  seen = new Set(),
) => {
  if (seen.has(file)) return found
  seen.add(file)
  for (const specifier of staticImports(file)) {
    if (specifier.startsWith('.')) importsOf(path.resolve(path.dirname(file), specifier), byName, found, seen)
    else if (specifier.startsWith(ourScope)) {
      const [scope, name, ...rest] = specifier.split('/')
      const { dir, pkg } = byName.get(`${scope}/${name}`)
      importsOf(entryFile(dir, pkg, rest.length ? `./${rest.join('/')}` : '.'), byName, found, seen)
    } else if (isBuiltin(specifier))
      found.builtins.add(specifier.startsWith('node:') ? specifier : `node:${specifier}`)
    else found.thirdParty.add(specifier)
  }
  return found
}

/**
 * A handler module importing `specifiers`, written where the package's own dependencies resolve
 * (`.bench-imports/`, which git ignores and `files` leaves out of the tarball); its file URL.
 */
const handlerModule = (dir, name, specifiers) => {
  const file = path.join(dir, '.bench-imports', `${name}.mjs`)
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, specifiers.map((s) => `import ${JSON.stringify(s)}\n`).join(''))
  return pathToFileURL(file).href
}

/** `@middy/core` where the package resolves it (every middleware's handler imports it). */
const middyOf = (dir) => (existsSync(path.join(dir, 'node_modules', '@middy', 'core')) ? ['@middy/core'] : [])

/**
 * What a fresh Node process spends importing one module, in milliseconds: { wall, cpu }. CPU time
 * (user + system, all threads) is what the import costs the process, and hardly moves when other
 * work shares the machine; wall time does.
 */
const timeImport = (url) =>
  JSON.parse(
    execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const cpu = process.cpuUsage()
         const wall = performance.now()
         await import(${JSON.stringify(url)})
         const used = process.cpuUsage(cpu)
         console.log(JSON.stringify({ wall: performance.now() - wall, cpu: (used.user + used.system) / 1000 }))`,
      ],
      { encoding: 'utf8' },
    ),
  )

/** Medians of one measure (`cpu` or `wall`) of the three imports, and what the entry adds. */
const compare = (alone, withBuiltins, withOurs, measure) => {
  const driverMs = median(alone.map((t) => t[measure]))
  const builtinsMs = median(withBuiltins.map((t) => t[measure]))
  const packageMs = median(withOurs.map((t) => t[measure]))
  return {
    driverMs,
    builtinsMs,
    packageMs,
    extraMs: packageMs - driverMs,
    ownCodeMs: packageMs - builtinsMs,
    ratio: packageMs / driverMs,
  }
}

/** Minified bytes of a package's own code: all its entries, shared chunks counted once. */
const minifiedBytes = async ({ dir, pkg }) => {
  const result = await build({
    entryPoints: entriesOf(pkg).map((name) => path.join(dir, 'src', `${name}.ts`)),
    outdir: path.join(dir, 'dist-minified'),
    write: false,
    bundle: true,
    splitting: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    logLevel: 'silent',
  })
  return result.outputFiles.reduce((sum, file) => sum + file.contents.byteLength, 0)
}

/** The import figures: one row per entry, one size per package. */
export const measureImports = async ({ processes = 21, onEntry, only = [] } = {}) => {
  const byName = packagesByName()
  const rows = []
  const sizes = []
  for (const [name, entry] of byName) {
    if (only.length > 0 && !only.some((o) => name === `${ourScope}${o}`)) continue
    sizes.push({ name, minifiedBytes: await minifiedBytes(entry) })
    for (const subpath of Object.keys(entry.pkg.exports).filter((key) => key !== './package.json')) {
      const specifier = subpath === '.' ? name : `${name}/${subpath.slice(2)}`
      const loaded = importsOf(entryFile(entry.dir, entry.pkg, subpath), byName)
      const drivers = [...loaded.thirdParty].sort()
      const builtins = [...loaded.builtins].sort()
      const middy = middyOf(entry.dir)
      const file = subpath === '.' ? 'index' : subpath.slice(2)
      const handlers = {
        alone: handlerModule(entry.dir, `${file}.driver`, [...middy, ...drivers]),
        withBuiltins: handlerModule(entry.dir, `${file}.driver-builtins`, [
          ...middy,
          ...drivers,
          ...builtins,
        ]),
        withOurs: handlerModule(entry.dir, `${file}.entry`, [...middy, specifier]),
      }
      onEntry?.(specifier)
      const [alone, withBuiltins, withOurs] = [[], [], []]
      for (let i = 0; i < processes; i++) {
        // Alternating, so a machine that speeds up or slows down during the run weighs on all three.
        alone.push(timeImport(handlers.alone))
        withBuiltins.push(timeImport(handlers.withBuiltins))
        withOurs.push(timeImport(handlers.withOurs))
      }
      rows.push({ specifier, drivers, builtins, middy, handlers })
      rows.at(-1).cpu = compare(alone, withBuiltins, withOurs, 'cpu')
      rows.at(-1).wall = compare(alone, withBuiltins, withOurs, 'wall')
    }
  }
  if (haveValgrind()) await countAll(rows, onEntry)
  for (const row of rows) delete row.handlers
  return { processes, rows, sizes }
}

/**
 * Adds `instructions` to each row: what the baseline handler and the entry's handler execute, and
 * the extra as a share of the baseline's import, in ms at the baseline's median CPU time.
 */
const countAll = async (rows, onEntry) => {
  onEntry?.('instructions (callgrind)')
  const [start, ...counts] = await inBatches([
    () => countInstructions(undefined),
    ...rows.flatMap((row) => [
      () => countInstructions(row.handlers.alone),
      () => countInstructions(row.handlers.withOurs),
    ]),
  ])
  rows.forEach((row, i) => {
    const [baseline, entry] = counts.slice(2 * i, 2 * i + 2)
    const share = (entry - baseline) / (baseline - start)
    row.instructions = {
      start,
      baseline,
      entry,
      extra: entry - baseline,
      share,
      extraMs: share * row.cpu.driverMs,
    }
  })
}

/** What the row's baseline handler imports, in words. */
export const baselineOf = (row) =>
  [...row.middy, ...row.drivers].join(', ') || 'nothing (an empty handler module)'

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // `node bench/imports.mjs db-connection core`: only those packages (their entries still load the rest).
  const only = process.argv.slice(2)
  const { rows, sizes } = await measureImports({ onEntry: (s) => console.error(`  ${s}`), only })
  for (const r of rows)
    console.log(
      `${r.specifier.padEnd(42)} CPU ${r.cpu.packageMs.toFixed(1).padStart(6)} ms vs ${r.cpu.driverMs.toFixed(1).padStart(6)} ms (${baselineOf(r)}): +${r.cpu.extraMs.toFixed(1)} ms; wall +${r.wall.extraMs.toFixed(1)} ms` +
        (r.instructions
          ? `; instructions +${(r.instructions.share * 100).toFixed(1)}% ≈ +${r.instructions.extraMs.toFixed(1)} ms`
          : ''),
    )
  for (const s of sizes)
    console.log(`${s.name.padEnd(42)} ${(s.minifiedBytes / 1024).toFixed(1)} KB minified`)
}
