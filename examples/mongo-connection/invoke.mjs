// Runs the example handler the way Lambda does (environments frozen between invocations) against
// a MongoDB stand-in behind a fault proxy, with and without mongo-connection, and prints results.
// Run `pnpm build` first.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { FaultProxy, LambdaEnvironment } from '@middy-downstream/lambda-sim'
import { MongoStandIn } from '@middy-downstream/testing'

const module = path.join(path.dirname(fileURLToPath(import.meta.url)), 'handler.mjs')
const timeoutMs = 3_000
const standIn = await MongoStandIn.start({ users: { shop: 'example-Pa55word' } })

// Middy's own timeout fires a few ms before Lambda's; either way the invocation ran out of time.
const describe = (result) =>
  result.ok
    ? `ok in ${result.durationMs} ms: ${result.value.body}`
    : result.timedOut || result.error.name === 'TimeoutError'
      ? `timed out after ${result.durationMs} ms`
      : `${result.error.name} after ${result.durationMs} ms: ${result.error.message}`

/** One environment per handler, each behind its own proxy so faults hit only its sockets. */
const scenario = async (title, fault) => {
  console.log(`\n${title}`)
  for (const exportName of ['unmanaged', 'handler']) {
    const proxy = await FaultProxy.start({ port: standIn.port })
    const url = `mongodb://shop:example-Pa55word@127.0.0.1:${proxy.port}/?directConnection=true`
    const environment = await LambdaEnvironment.start({
      module,
      exportName,
      timeoutMs,
      env: { MONGO_URL: url, VALIDATE_AFTER_IDLE_MS: '0' },
    })
    await environment.invoke({ customer: exportName })
    fault(proxy) // while the environment is frozen
    const result = await environment.invoke({ customer: exportName })
    const events = exportName === 'handler' ? `  [${(await environment.call('lifecycle')).join(' ')}]` : ''
    console.log(`  ${exportName.padEnd(10)} ${describe(result)}${events}`)
    await environment.close()
    await proxy.close()
  }
}

{
  console.log('50 warm invocations')
  const accepted = standIn.connectionsAccepted
  const environment = await LambdaEnvironment.start({
    module,
    timeoutMs,
    env: { MONGO_URL: standIn.url({ username: 'shop', password: 'example-Pa55word' }) },
  })
  let last
  for (let i = 0; i < 50; i++) last = await environment.invoke({ customer: 'grace' })
  const events = await environment.call('lifecycle')
  console.log(`  handler    ${describe(last)}`)
  console.log(
    `             ${events.filter((e) => e === 'open').length} client, ${standIn.connectionsAccepted - accepted} connections accepted by the server (pool + 1 monitoring)`,
  )
  await environment.close()
}

await scenario('The network silently dropped the connections while the environment was frozen', (proxy) => {
  for (const connection of proxy.openConnections) proxy.setConnectionMode(connection.id, 'blackhole')
})
await scenario('The server became unreachable while the environment was frozen', (proxy) =>
  proxy.setMode('blackhole'),
)
await standIn.stop()

console.log(
  `\nWithout the middleware the invocation waits on the dead socket until Lambda's ${timeoutMs} ms timeout.` +
    '\nWith it, a client idle past validateAfterIdleMs is pinged and replaced before the handler runs;' +
    ' an operation still stuck 500 ms before the timeout fails with a DeadlineError the handler can report.',
)
