import { expect, test } from '@jest/globals'
import middy from '@middy/core'
import { placeholder } from '@middy-downstream/core'

test('smoke', async () => {
  const h = middy().handler(async () => placeholder)
  expect(await h({}, {} as never)).toBe(1)
})
