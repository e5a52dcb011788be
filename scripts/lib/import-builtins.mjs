// Which Node builtins importing an entry loads beyond what its driver loads. An ESM import of a
// builtin (`import { x } from 'node:fs'`) builds its namespace, reading every export, getters
// included, which loads modules nobody uses (fs's streams and promises, net's BlockList): a cold
// start cost paid by every importer (issue 15). Our code loads builtins it needs lazily, through
// `process.getBuiltinModule`; this check keeps it so.
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { emptyModule, entryFile, importsOf } from '../../bench/imports.mjs'

/** Entries whose job is to load builtins at import (a CLI's child processes, http agents). */
const loadsBuiltinsByDesign = new Set(['@middy-downstream/lambda-sim', '@middy-downstream/keepalive-agent'])

/**
 * Internal modules Node loads while importing `specifier` after `drivers`, in a fresh process. An
 * empty module file is imported first: the first file import loads the ESM loader's own modules
 * (node:fs/promises, which it reads files with), whatever the file.
 */
const builtinsLoadedBy = (cwd, drivers, specifier) =>
  JSON.parse(
    execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `for (const d of ${JSON.stringify([emptyModule(), ...drivers])}) await import(d)
         const before = new Set(process.moduleLoadList)
         await import(${JSON.stringify(specifier)})
         console.log(JSON.stringify(process.moduleLoadList.filter((m) => !before.has(m))))`,
      ],
      { cwd, encoding: 'utf8' },
    ),
  )

/** Problems, one per entry that loads a builtin its driver does not. */
export const builtinLoadProblems = (byName) => {
  const problems = []
  for (const [name, { dir, pkg }] of byName) {
    if (loadsBuiltinsByDesign.has(name)) continue
    for (const subpath of Object.keys(pkg.exports).filter((key) => key !== './package.json')) {
      const specifier = subpath === '.' ? name : `${name}/${subpath.slice(2)}`
      const drivers = [...importsOf(entryFile(dir, pkg, subpath), byName).thirdParty]
      const loaded = builtinsLoadedBy(path.resolve(dir), drivers, specifier)
      if (loaded.length > 0)
        problems.push(
          `importing ${specifier} loads ${loaded.join(', ')} beyond its driver (${drivers.join(', ') || 'none'}): load builtins on first use with process.getBuiltinModule`,
        )
    }
  }
  return problems
}
