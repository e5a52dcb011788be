// A throwaway consumer project for the README blocks, outside the repository. Its node_modules is
// examples/node_modules, so @middy-downstream/* resolve to the workspace packages' built dist (as
// an installed package would) and the other imports to what examples/ depends on.
import { execFile } from 'node:child_process'
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { fileNameOf, root } from './snippets.mjs'

/** What a strict user has: no skipLibCheck, the default lib of a Node project (no DOM). */
export const compilerOptions = {
  target: 'ES2022',
  lib: ['ES2023'],
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  moduleDetection: 'force',
  types: ['node'],
  strict: true,
  skipLibCheck: false,
  allowJs: true,
  checkJs: true,
  outDir: 'out',
  rootDir: '.',
}

/** Writes each block (after its prelude) as a module; returns the folder and the files. */
export const writeProject = (blocks) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'readme-snippets-'))
  symlinkSync(path.join(root, 'examples/node_modules'), path.join(dir, 'node_modules'), 'dir')
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ type: 'module', private: true })}\n`)
  const files = blocks.map((block) => {
    const name = fileNameOf(block)
    writeFileSync(path.join(dir, name), [...block.prelude, block.code, ''].join('\n'))
    return { name, block }
  })
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    `${JSON.stringify({ compilerOptions, files: files.map((file) => file.name) }, null, 2)}\n`,
  )
  return { dir, files }
}

/**
 * Compiles the project (emitting JavaScript into out/ for the blocks that run) and returns the
 * compiler's errors, each pointed back to its README line: `{ readme, line, code, message }`.
 */
export const compile = async ({ dir, files }) => {
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc')
  const output = await promisify(execFile)(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], {
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    () => '',
    (error) => `${error.stdout}${error.stderr}`,
  )
  const byName = new Map(files.map((file) => [file.name, file.block]))
  const errors = []
  for (const line of output.split('\n')) {
    const match = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line)
    if (!match) {
      if (line.trim() !== '' && !line.startsWith(' '))
        errors.push({ readme: '(tsc)', line: 0, code: '', message: line })
      else if (errors.length > 0 && line.trim() !== '') errors.at(-1).message += `\n${line}`
      continue
    }
    const [, file, at, , code, message] = match
    const block = byName.get(path.basename(file))
    if (!block) {
      errors.push({ readme: path.relative(root, path.resolve(dir, file)), line: Number(at), code, message })
      continue
    }
    errors.push({
      readme: block.readme,
      line: block.line + Number(at) - 1 - block.prelude.length,
      code,
      message,
    })
  }
  return errors
}

/** Where the compiled JavaScript of a block is. */
export const compiledPath = (dir, block) => path.join(dir, 'out', fileNameOf(block).replace(/\.ts$/, '.js'))
