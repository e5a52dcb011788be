import path from 'node:path'
import type { Config } from 'jest'

// Jest is always started from the repository root (package.json scripts, .ci/run).
const middyMajor = process.env.MIDDY_MAJOR ?? '6'

// Middy 7 exports only the `import` condition, so it is mapped by file path, not by name.
const middyCoreEntry =
  middyMajor === '7'
    ? path.resolve('node_modules/middy7/index.js')
    : path.resolve('node_modules/@middy/core/index.js')

// Simulated Lambda environments (child processes) resolve @middy/core through this hook variable.
if (middyMajor === '7') process.env.LAMBDA_SIM_MIDDY_CORE = `file://${middyCoreEntry}`

const config: Config = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } },
    ],
  },
  moduleNameMapper: {
    '^@middy/core$': middyCoreEntry,
    '^@middy-downstream/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts',
    // Subpath entries (`@middy-downstream/db-connection/postgres`) are files next to index.ts.
    '^@middy-downstream/([a-z-]+)/([a-z-]+)$': '<rootDir>/packages/$1/src/$2.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/packages/*/test/**/*.test.ts', '<rootDir>/examples/**/*.test.ts'],
  testTimeout: 60_000,
  // Private servers are processes; two workers match the two cores of the CI machine.
  maxWorkers: 2,
}

export default config
