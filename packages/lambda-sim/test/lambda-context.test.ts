import { expect, test } from '@jest/globals'
import { fakeContext } from '../src/index.js'

test('remaining time counts down from the timeout', () => {
  const context = fakeContext({ timeoutMs: 1000, startedAt: Date.now() - 400, functionName: 'orders' })
  expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(600)
  expect(context.getRemainingTimeInMillis()).toBeGreaterThan(500)
  expect(fakeContext({ timeoutMs: 10, startedAt: Date.now() - 50 }).getRemainingTimeInMillis()).toBe(0)
  expect(context).toMatchObject({ functionName: 'orders', callbackWaitsForEmptyEventLoop: true })
  expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/)
})
