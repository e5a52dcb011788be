import { expect, test } from '@jest/globals'
import { smallStorm } from './small-storm.js'
import { runStorm } from './storm.mjs'

// 10 environments against max_connections 10 (9 for the application: the test's admin
// connection holds one).
const small = smallStorm({ maxConnections: 10, invocations: 30 })

test('in a small storm the unmanaged handler runs out of connections; db-connection fails no invocation and harms no bystander', async () => {
  const unmanaged = await runStorm({ handler: 'unmanaged', ...small, bystanders: false })
  expect(unmanaged.invocations).toBe(60)
  expect(unmanaged.failures).toBeGreaterThan(0)
  expect(unmanaged.failuresByCode).toEqual({ ER_CON_COUNT_ERROR: unmanaged.failures })

  // Reaping on (performance_schema), beside another application's connection and another
  // function's transactions on the same user and database.
  const managed = await runStorm({
    handler: 'db-connection',
    ...small,
    maxConnections: 12,
    performanceSchema: true,
    bystanders: { application: 1, functions: 1, pauseMs: 4000 },
  })
  expect(managed.invocations).toBe(60)
  expect(managed.failuresByCode).toEqual({})
  expect(managed.failures).toBe(0)
  expect(managed.bystanders).toMatchObject({ connectionsKilled: 0, transactionsBroken: 0 })
  expect(managed.bystanders?.transactionsCommitted).toBeGreaterThan(0)
}, 180_000)
