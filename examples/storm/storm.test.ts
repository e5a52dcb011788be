import { expect, test } from '@jest/globals'
import { runStorm } from './storm.mjs'

// A small storm: 10 environments against max_connections 10 (9 for the application: the test's
// admin connection holds one), a burst, half the idle environments reclaimed with their
// connections left open, another burst.
const small = {
  maxConnections: 10,
  maxEnvironments: 10,
  // A roomier function timeout than the demo's: the suite may share the machine's two cores.
  timeoutMs: 6000,
  profile: [
    { name: 'burst', concurrency: 10, invocations: 30 },
    { name: 'reclaim', reap: 0.5 },
    { name: 'second burst', concurrency: 10, invocations: 30 },
  ],
}

test('in a small storm the unmanaged handler runs out of connections and db-connection fails no invocation', async () => {
  const unmanaged = await runStorm({ handler: 'unmanaged', ...small })
  expect(unmanaged.invocations).toBe(60)
  expect(unmanaged.failures).toBeGreaterThan(0)
  expect(unmanaged.failuresByCode).toEqual({ ER_CON_COUNT_ERROR: unmanaged.failures })

  const managed = await runStorm({ handler: 'db-connection', ...small })
  expect(managed.invocations).toBe(60)
  expect(managed.failuresByCode).toEqual({})
  expect(managed.failures).toBe(0)
})
