import { expect, test } from '@jest/globals'
import { runResume } from './resume.mjs'
import { smallStorm } from './small-storm.js'
import { runStorm } from './storm.mjs'

// The demo's PostgreSQL and Data API rows, in a small storm: 10 environments against 8
// connections for the application.
const small = smallStorm({ maxConnections: 8, invocations: 20 })

test('PostgreSQL: the unmanaged pg.Client runs out of connections (53300); db-connection/postgres fails none and harms no bystander', async () => {
  const unmanaged = await runStorm({ handler: 'unmanaged-pg', ...small, bystanders: false })
  expect(unmanaged.engine).toBe('postgres')
  expect(unmanaged.invocations).toBe(40)
  expect(unmanaged.failures).toBeGreaterThan(0)
  expect(unmanaged.failuresByCode).toEqual({ '53300': unmanaged.failures })

  const managed = await runStorm({
    handler: 'db-connection-pg',
    ...small,
    maxConnections: 10,
    bystanders: { application: 1, functions: 1, pauseMs: 3000 },
  })
  expect(managed.failuresByCode).toEqual({})
  expect(managed.peakConnections).toBeLessThanOrEqual(10)
  expect(managed.queriesPerInvocation).toBeGreaterThanOrEqual(1)
  expect(managed.bystanders).toMatchObject({ connectionsKilled: 0, transactionsBroken: 0 })
  expect(managed.bystanders?.transactionsCommitted).toBeGreaterThan(0)
}, 180_000)

test('Data API: the fleet holds no database connection and fails no invocation; one HTTP call per invocation', async () => {
  const summary = await runStorm({ handler: 'db-connection-data-api', ...small })
  expect(summary.engine).toBe('data-api')
  expect(summary.failuresByCode).toEqual({})
  expect(summary.peakConnections).toBe(0)
  expect(summary.connectsPerInvocation).toBe(0)
  expect(summary.peakServiceConnections).toBeGreaterThan(0)
  expect(summary.queriesPerInvocation).toBe(1)
  expect(summary.bystanders).toBeUndefined()
}, 120_000)

test('Data API resuming from zero: a timeout that outlasts the resume succeeds; a shorter one fails fast with the reason, never by timing out', async () => {
  const { groups } = await runResume({
    pauseMs: 3000,
    shortTimeoutMs: 1500,
    longTimeoutMs: 10_000,
    concurrency: 3,
    invocations: 6,
  })
  const [long, short] = groups
  expect(long).toMatchObject({ invocations: 6, succeeded: 6, failed: 0 })
  expect(short).toMatchObject({
    invocations: 6,
    succeeded: 0,
    failed: 6,
    timedOut: 0,
    codes: ['DeadlineError'],
  })
  expect(short.message).toContain('the Aurora cluster is resuming from a pause')
  expect(short.message).toContain('was not run')
}, 120_000)
