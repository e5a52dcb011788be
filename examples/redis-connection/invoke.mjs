// Runs the example handler the way Lambda does (a child-process environment, frozen between
// invocations) against a private Redis that this script starts, freezes and stops, with and
// without redis-connection, and prints what each invocation got back.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { LambdaEnvironment } from '@middy-downstream/lambda-sim'
// The repository's private test harness (a throwaway redis-server on a free port).
import { RedisServer } from '@middy-downstream/testing'

const module = path.join(path.dirname(fileURLToPath(import.meta.url)), 'handler.mjs')
const timeoutMs = 1500
const server = await RedisServer.start()

const scenarios = [
  ['cold', async () => {}],
  ['warm', async () => {}],
  ['server frozen', async () => server.freeze()],
  ['thawed', async () => server.thaw()],
  ['server stopped', async () => server.stop()],
  ['restarted', async () => server.start()],
]

const describe = (result) =>
  result.ok
    ? `${result.value.body} (${result.durationMs} ms)`
    : `${result.error.name} after ${result.durationMs} ms${result.timedOut ? '' : `: ${result.error.message.replace(/^@middy-downstream\/redis-connection: /, '')}`}`

try {
  for (const exportName of ['handler', 'unmanaged']) {
    const environment = await LambdaEnvironment.start({
      module,
      exportName,
      timeoutMs,
      env: { REDIS_URL: server.url },
    })
    console.log(
      `\n${exportName === 'handler' ? 'with redis-connection' : 'plain ioredis'} (function timeout ${timeoutMs} ms)`,
    )
    for (const [label, before] of scenarios) {
      await before()
      console.log(`  ${label.padEnd(15)} ${describe(await environment.invoke({ page: 'home' }))}`)
    }
    await environment.close()
  }
} finally {
  await server.dispose()
}
console.log(
  '\nWith redis-connection a frozen server costs one DeadlineError inside the function timeout and a' +
    '\nstopped one a ConnectError after three quick attempts; plain ioredis waits for both until Lambda kills' +
    '\nthe invocation.',
)
