import { describe, expect, test } from '@jest/globals'
import { type OptionsSchema, validateOptions, withAliases } from '../src/index.js'

describe('validateOptions with the option names of other libraries', () => {
  const schema: OptionsSchema = withAliases(
    { utilizationThreshold: { type: 'number', min: 0, max: 1 }, eager: { type: 'boolean' } },
    {
      connUtilization: { from: 'serverless-mysql', use: 'utilizationThreshold', note: 'the same 0-1 share' },
      cacheKey: { from: '@middy/rds', note: 'clients are shared by config' },
    },
  )
  const check = (options: object) => () => validateOptions('@middy-downstream/x', schema, options)

  test('a known foreign name points to ours, however far its spelling', () => {
    expect(check({ connUtilization: 0.5 })).toThrow(
      'unknown option "connUtilization" (did you mean "utilizationThreshold"? "connUtilization" is a serverless-mysql option: the same 0-1 share)',
    )
  })

  test('a foreign name with no equivalent says so', () => {
    expect(check({ cacheKey: 'k' })).toThrow(
      'unknown option "cacheKey" ("cacheKey" is a @middy/rds option with no equivalent here: clients are shared by config)',
    )
  })

  test('a typo still gets the nearest name, and names from Object.prototype are not aliases', () => {
    expect(check({ eagr: true })).toThrow('unknown option "eagr" (did you mean "eager"?)')
    expect(check({ toString: 1 })).toThrow(/unknown option "toString"; known options/)
  })

  test('a schema without aliases is unchanged', () => {
    expect(() =>
      validateOptions('@middy-downstream/x', { eager: { type: 'boolean' } }, { connUtilization: 1 }),
    ).toThrow(/unknown option "connUtilization"; known options: eager$/)
  })
})
