import path from 'node:path'
import { afterAll, expect, test } from '@jest/globals'
import { callbackHandlersSupported, LambdaEnvironment } from '@middy-downstream/lambda-sim'

const module = path.resolve('examples/event-loop-release/handler.mjs')
const environments: LambdaEnvironment[] = []
afterAll(() => Promise.all(environments.map((e) => e.close())))

const run = async (exportName: string) => {
  const environment = await LambdaEnvironment.start({ module, exportName, timeoutMs: 800 })
  environments.push(environment)
  return environment.invoke({ name: 'test' })
}

// Up to Node.js 22 the runtime takes callback-style handlers; Node.js 24's refuses them.
if (callbackHandlersSupported()) {
  test('without the middleware a callback-style invocation hangs on the open socket until the timeout', async () => {
    expect(await run('unmanagedCallbackHandler')).toMatchObject({ ok: false, timedOut: true })
  })

  test('with the middleware it answers at once', async () => {
    expect(await run('callbackHandler')).toMatchObject({
      ok: true,
      value: { statusCode: 200, body: 'hello test' },
    })
  })
} else {
  test('on Node.js 24 there is no callback-style handler to release: the runtime refuses it at init', async () => {
    await expect(run('callbackHandler')).rejects.toThrow(
      'the Node.js 24 runtime supports only async handlers',
    )
  })
}

test('an async handler answers either way: the runtime ignores the flag for it', async () => {
  expect(await run('unmanaged')).toMatchObject({ ok: true })
  expect(await run('handler')).toMatchObject({ ok: true })
})
