import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { MariaDbServer } from '@middy-downstream/testing'
import { measure } from './measure.mjs'

let server: MariaDbServer
beforeAll(async () => {
  server = await MariaDbServer.start({ maxConnections: 50 })
})
afterAll(() => server.dispose())

test('concurrency 8 over 2 workers, host localhost: no failure, the default budget of 4 connections', async () => {
  const result = await measure(server, 8, 2)
  expect(result).toMatchObject({ failed: 0, invocations: 24 })
  expect(result.peakConnections).toBeLessThanOrEqual(4)
})
