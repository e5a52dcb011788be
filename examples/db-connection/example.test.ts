import path from 'node:path'
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { LambdaEnvironment, MariaDbServer } from '@middy-downstream/testing'

let server: MariaDbServer
let environment: LambdaEnvironment
beforeAll(async () => {
  server = await MariaDbServer.start()
  await server.sql('USE test')
  const { schema } = (await import(path.resolve('examples/db-connection/handler.mjs'))) as {
    schema: string[]
  }
  for (const statement of schema) await server.sql(statement)
  environment = await LambdaEnvironment.start({
    module: path.resolve('examples/db-connection/handler.mjs'),
    env: { DB_PORT: String(server.port), DB_NAME: 'test' },
  })
})
afterAll(async () => {
  await environment.close()
  await server.dispose()
})

test('the orders example creates and reads an order, through a kill during the freeze', async () => {
  expect(await environment.invoke({ order: { item: 'apple', quantity: 3 } })).toMatchObject({
    ok: true,
    value: { statusCode: 201, orderId: 1 },
  })
  const ids = await server.sql<{ ID: number }[]>(
    "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = 'test' AND ID <> CONNECTION_ID()",
  )
  await server.sql('KILL CONNECTION ?', [ids[0]!.ID])
  expect(await environment.invoke({ id: 1 })).toMatchObject({
    ok: true,
    value: { statusCode: 200, order: { item: 'apple', quantity: 3 } },
  })
  expect(await server.sql('SELECT quantity FROM stock')).toEqual([{ quantity: 97 }])
})
