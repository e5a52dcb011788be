// Runs the orders handler the way Lambda does, against a private throwaway MariaDB: a few
// invocations in one frozen environment, a connection killed during a freeze, and a restart.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { LambdaEnvironment } from '@middy-downstream/lambda-sim'
import { MariaDbServer } from '@middy-downstream/testing'
import { schema } from './handler.mjs'

const server = await MariaDbServer.start()
await server.sql('USE test')
for (const statement of schema) await server.sql(statement)
const environment = await LambdaEnvironment.start({
  module: path.join(path.dirname(fileURLToPath(import.meta.url)), 'handler.mjs'),
  timeoutMs: 3000,
  env: { DB_PORT: String(server.port), DB_NAME: 'test', LOG_EVENTS: '1' },
})
const show = (label, result) =>
  console.log(
    `${label.padEnd(44)} ${result.ok ? JSON.stringify(result.value) : `ERROR ${result.error.name}`}`,
  )
try {
  show('create an order', await environment.invoke({ order: { item: 'apple', quantity: 2 } }))
  show('read it (warm, same connection)', await environment.invoke({ id: 1 }))
  const [{ ID }] = await server.sql(
    "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = 'test' AND ID <> CONNECTION_ID()",
  )
  await server.sql('KILL CONNECTION ?', [ID])
  show('after the connection was killed while frozen', await environment.invoke({ id: 1 }))
  await server.restart()
  show('after a server restart', await environment.invoke({ id: 1 }))
  console.log(`\nserver connections opened: ${await server.status('Connections')} (admin included)`)
} finally {
  await environment.close()
  await server.dispose()
}
