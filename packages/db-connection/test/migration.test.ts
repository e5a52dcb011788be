import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, expect, test } from '@jest/globals'
import dbConnection from '../src/index.js'
import { migrationAliases } from '../src/migration-aliases.js'
import { schema } from '../src/options.js'
import pgConnection from '../src/postgres.js'

// Users come from serverless-mysql and @middy/rds with their option names in hand: each such name
// gets a "did you mean" that names ours, and the README's migration tables list them all.

const config = { host: 'db.internal', user: 'app' }
const attempt = (options: object) => () => dbConnection({ config, ...options } as never)

describe('options of serverless-mysql and @middy/rds', () => {
  test.each([
    [
      'connUtilization',
      0.75,
      'did you mean "utilizationThreshold"? "connUtilization" is a serverless-mysql and serverless-postgres option',
    ],
    ['maxConnsFreq', 15_000, 'did you mean "capacityCheckIntervalMs"?'],
    [
      'maxRetries',
      50,
      'did you mean "retry.maxAttempts"? "maxRetries" is a serverless-mysql and serverless-postgres option: attempts in all',
    ],
    ['backoff', 'full', 'did you mean "retry.strategy"?'],
    ['zombieMinTimeout', 3, 'did you mean "reapMinIdleSeconds"?'],
    ['zombieMaxTimeout', 900, '"zombieMaxTimeout" is a serverless-mysql option with no equivalent here'],
    [
      'onConnect',
      () => {},
      'did you mean "onEvent"? "onConnect" is a serverless-mysql option: one listener for all events; this one is type "open"',
    ],
    ['onKill', () => {}, 'this one is type "reap"'],
    ['internalKey', 'rdsToken', 'did you mean "passwordFromInternal"? "internalKey" is a @middy/rds option'],
    ['disablePrefetch', true, 'did you mean "eager"?'],
    ['cacheKey', 'rds', '"cacheKey" is a @middy/rds option with no equivalent here'],
  ])('%s is rejected with a pointer to ours', (name, value, message) => {
    expect(attempt({ [name]: value })).toThrow(TypeError)
    expect(attempt({ [name]: value })).toThrow(message)
  })

  test('every name serverless-mysql reads is ours too or has an alias', () => {
    const require = createRequire(import.meta.url)
    const source = readFileSync(require.resolve('serverless-mysql'), 'utf8')
    const names = new Set([...source.matchAll(/\bcfg\.(\w+)/g)].map((match) => match[1]!))
    expect(names.size).toBeGreaterThan(20)
    const missing = [...names].filter((name) => !(name in schema) && !(name in migrationAliases))
    expect(missing).toEqual([])
  })

  test('every alias points to an option that exists', () => {
    const retryKeys = ['strategy', 'baseMs', 'capMs', 'maxAttempts']
    for (const { use } of Object.values(migrationAliases)) {
      if (use === undefined) continue
      const [root, field] = use.split('.')
      expect(Object.keys(schema)).toContain(root)
      if (field) expect(retryKeys).toContain(field)
    }
  })

  test("the README's migration tables list every alias", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const tables = readme.slice(readme.indexOf('## Migrating from serverless-mysql'))
    const unlisted = Object.keys(migrationAliases).filter((name) => !tables.includes(`\`${name}\``))
    expect(unlisted).toEqual([])
  })
})

describe('options of serverless-postgres, on the /postgres entry', () => {
  const pgAttempt = (options: object) => () => pgConnection({ config, ...options } as never)

  test.each([
    [
      'maxConnsFreqMs',
      60_000,
      'did you mean "capacityCheckIntervalMs"? "maxConnsFreqMs" is a serverless-postgres option',
    ],
    ['minConnectionIdleTimeSec', 0.5, 'did you mean "reapMinIdleSeconds"?'],
    ['maxIdleConnectionsToKill', 5, 'did you mean "reapMaxPerInvocation"?'],
    [
      'strategy',
      'ranked',
      '"strategy" is a serverless-postgres option with no equivalent here: one strategy',
    ],
    [
      'maxConnections',
      100,
      '"maxConnections" is a serverless-postgres option with no equivalent here: the server\'s limit is read',
    ],
    ['delayMs', 3000, 'did you mean "retry.baseMs"?'],
    [
      'allowCredentialsDiffing',
      true,
      'did you mean "password"? "allowCredentialsDiffing" is a serverless-postgres option: pass a function',
    ],
    ['application_name', 'mine', 'did you mean "fleet"?'],
    ['connUtilization', 0.8, 'did you mean "utilizationThreshold"?'],
    ['library', () => {}, '(config) => new pg.Client(config) for /postgres'],
    // serverless-postgres's README puts pg's fields beside its options.
    [
      'host',
      'db.internal',
      'did you mean "config"? "host" is a serverless-postgres option: connection fields go in config',
    ],
  ])('%s is rejected with a pointer to ours', (name, value, message) => {
    expect(pgAttempt({ [name]: value })).toThrow(TypeError)
    expect(pgAttempt({ [name]: value })).toThrow(message)
  })

  test('every name serverless-postgres reads is ours too or has an alias', () => {
    const require = createRequire(import.meta.url)
    const source = readFileSync(require.resolve('serverless-postgres/src/index.js'), 'utf8')
    const names = new Set(
      [...source.matchAll(/\b(?:this\._config|config)\.(\w+)/g)].map((match) => match[1]!),
    )
    expect(names.size).toBeGreaterThan(15)
    const missing = [...names].filter((name) => !(name in schema) && !(name in migrationAliases))
    expect(missing).toEqual([])
  })
})
