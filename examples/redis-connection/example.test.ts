import path from 'node:path'
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { type InvocationResult, LambdaEnvironment } from '@middy-downstream/lambda-sim'
import { RedisServer } from '@middy-downstream/testing'

// The handler runs in child processes and imports the built package: run `pnpm build` first.
const module = path.resolve('examples/redis-connection/handler.mjs')
const timeoutMs = 1000
let server: RedisServer
const environments: LambdaEnvironment[] = []

beforeAll(async () => {
  server = await RedisServer.start()
})
afterAll(async () => {
  await Promise.all(environments.map((environment) => environment.close()))
  await server.dispose()
})

/** Runs the same fault sequence against one export and returns each invocation's result. */
const run = async (exportName: string) => {
  const environment = await LambdaEnvironment.start({
    module,
    exportName,
    timeoutMs,
    env: { REDIS_URL: server.url },
  })
  environments.push(environment)
  const results: Record<string, InvocationResult> = {}
  results.warm = await environment.invoke({ page: exportName })
  server.freeze()
  results.frozen = await environment.invoke({ page: exportName })
  server.thaw()
  results.thawed = await environment.invoke({ page: exportName })
  await server.stop()
  results.stopped = await environment.invoke({ page: exportName })
  await server.start()
  results.restarted = await environment.invoke({ page: exportName })
  return results
}

test('with the middleware every fault is answered inside the function timeout, and recovery is immediate', async () => {
  const results = await run('handler')
  expect(results.warm).toMatchObject({ ok: true, value: { statusCode: 200 } })
  expect(results.frozen).toMatchObject({ ok: false, error: { name: 'DeadlineError' } })
  expect(results.frozen!.timedOut).toBeUndefined()
  expect(results.thawed).toMatchObject({ ok: true })
  expect(results.stopped).toMatchObject({ ok: false, error: { name: 'ConnectError', code: 'ECONNREFUSED' } })
  expect(results.stopped!.timedOut).toBeUndefined()
  expect(results.restarted).toMatchObject({ ok: true })
})

test('with a plain ioredis client the same faults run into the Lambda timeout', async () => {
  const results = await run('unmanaged')
  expect(results.warm).toMatchObject({ ok: true })
  expect(results.frozen).toMatchObject({ ok: false, timedOut: true })
  expect(results.stopped).toMatchObject({ ok: false, timedOut: true })
})
