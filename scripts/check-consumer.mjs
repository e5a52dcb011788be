// Installs the packed tarballs of every public package into a fresh TypeScript project outside
// the workspace, with the peer dependencies at the versions this workspace locks, and typechecks
// scripts/consumer/consumer.ts with `strict` and `skipLibCheck: false`: what a user sees, including
// every published .d.ts. Installs from the pnpm store the workspace install filled, the registry for anything missing.
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pack, publicPackages, root } from './lib/packages.mjs'

/** Peer dependencies and types a user installs next to ours, at the versions installed here. */
const companions = [
  '@middy/core',
  'mysql2',
  'pg',
  '@types/pg',
  'ioredis',
  'mongodb',
  '@types/node',
  '@types/aws-lambda',
]

const installedVersion = (name) => {
  const places = ['.', 'examples', 'packages/testing', 'packages/db-connection'].map((base) =>
    path.join(root, base, 'node_modules', name),
  )
  const found = places.find((place) => existsSync(path.join(place, 'package.json')))
  if (!found) throw new Error(`${name} is not installed in the workspace: run pnpm install`)
  return JSON.parse(readFileSync(path.join(found, 'package.json'), 'utf8')).version
}

const tsconfig = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    types: ['node'],
    strict: true,
    skipLibCheck: false,
    noEmit: true,
  },
  files: ['consumer.ts'],
}

const project = mkdtempSync(path.join(tmpdir(), 'consumer-'))
try {
  const dependencies = {}
  for (const { dir, pkg } of publicPackages()) dependencies[pkg.name] = `file:${pack(dir, project).filename}`
  for (const name of companions) dependencies[name] = installedVersion(name)
  const manifest = { name: 'consumer', private: true, type: 'module', dependencies }
  writeFileSync(path.join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  // Our packages depend on each other by version: resolve those to the tarballs, not the registry.
  const overrides = Object.entries(dependencies).filter(([name]) => name.startsWith('@middy-downstream/'))
  const yaml = overrides.map(([name, spec]) => `  "${name}": "${spec}"`).join('\n')
  writeFileSync(path.join(project, 'pnpm-workspace.yaml'), `overrides:\n${yaml}\n`)
  writeFileSync(path.join(project, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`)
  copyFileSync(path.join(root, 'scripts/consumer/consumer.ts'), path.join(project, 'consumer.ts'))
  console.log(
    `==> installing ${Object.keys(dependencies).length} packages into ${project} (from the pnpm store where it can)`,
  )
  execFileSync('pnpm', ['install', '--prefer-offline', '--config.strict-peer-dependencies=false'], {
    cwd: project,
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  console.log('==> tsc --strict --skipLibCheck false consumer.ts')
  execFileSync(path.join(root, 'node_modules/.bin/tsc'), ['-p', project], { stdio: 'inherit' })
  console.log('==> the published types compile for a strict consumer')
} catch (error) {
  console.error(`consumer typecheck failed: ${error.message.split('\n')[0]} (project kept at ${project})`)
  process.exitCode = 1
} finally {
  if (process.exitCode !== 1) rmSync(project, { recursive: true, force: true })
}
