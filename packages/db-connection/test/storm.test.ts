import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { type LambdaEnvironment, MariaDbServer } from '@middy-downstream/testing'
import { createAppUser, environments } from './support.js'

const envs = environments()
let server: MariaDbServer
beforeAll(async () => {
  server = await MariaDbServer.start({ maxConnections: 15 })
  await createAppUser(server, 'app', 'app-pw')
})
afterAll(async () => {
  await envs.closeAll()
  await server?.dispose()
})

test('a storm: 30 environments frozen between invocations against max_connections 15, zero errors reach a handler', async () => {
  const fleet: LambdaEnvironment[] = []
  for (let i = 0; i < 30; i++)
    fleet.push(await envs.start(server, {}, { user: 'app', password: 'app-pw', timeoutMs: 6000 }))
  const results = []
  for (let round = 0; round < 4; round++) {
    results.push(...(await Promise.all(fleet.map((environment) => environment.invoke({})))))
  }
  const failures = results.filter((r) => !r.ok).map((r) => r.error)
  expect(failures).toEqual([])
  expect(results).toHaveLength(120)
  // Some invocations had to wait for a free connection: the storm really exceeded the limit.
  const counters = await Promise.all(fleet.map((e) => e.call<{ counters: { retries: number } }>('stats')))
  expect(counters.reduce((sum, s) => sum + s.counters.retries, 0)).toBeGreaterThan(0)
})
