import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, test } from '@jest/globals'

/**
 * Imports an entry of the built package in a fresh Node process and lists the bare specifiers it
 * resolved, through a module resolution hook: what a user's function loads at cold start. The
 * hook writes them to a file synchronously: from Node 22 on hooks run on a thread of their own,
 * whose console output can be lost when the process exits.
 */
describe('each engine entry loads its own driver only', () => {
  const run = (entry: string) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'entries-'))
    const log = path.join(dir, 'resolved.txt')
    try {
      writeFileSync(log, '')
      execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { register } from 'node:module'
           register('data:text/javascript,' + encodeURIComponent(\`
             import { appendFileSync } from 'node:fs'
             export async function resolve(specifier, context, next) {
               if (/^[@a-z]/.test(specifier) && !specifier.startsWith('node:')) appendFileSync(${JSON.stringify(log)}, specifier + ' ')
               return next(specifier, context)
             }\`))
           await import(${JSON.stringify(entry)})`,
        ],
        { cwd: path.resolve('packages/db-connection'), encoding: 'utf8' },
      )
      return readFileSync(log, 'utf8').split(' ').filter(Boolean)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }

  test('the default (MySQL) entry never loads pg', () => {
    const specifiers = run('@middy-downstream/db-connection')
    expect(specifiers.some((s) => s.startsWith('mysql2'))).toBe(true)
    expect(specifiers.filter((s) => s === 'pg' || s.startsWith('pg/'))).toEqual([])
  })

  test('the postgres entry never loads mysql2', () => {
    const specifiers = run('@middy-downstream/db-connection/postgres')
    expect(specifiers).toContain('pg')
    expect(specifiers.filter((s) => s.startsWith('mysql2'))).toEqual([])
  })

  test('the data-api entry loads the Data API client, never mysql2 or pg', () => {
    const specifiers = run('@middy-downstream/db-connection/data-api')
    expect(specifiers).toContain('@aws-sdk/client-rds-data')
    expect(specifiers.filter((s) => s.startsWith('mysql2') || s === 'pg' || s.startsWith('pg/'))).toEqual([])
  })
})
