// Issue 10's split for db-connection, measured the way redis-connection and mongo-connection
// measure theirs (bench/cpu-split.mjs): CPU per statement and per invocation over a bare Middy
// handler holding a raw mysql2 connection with the middleware's driver settings (`trace` off, so
// the split measures our code, not a setting), on a private MariaDB, pinned to one core with it.
//
//   pnpm build && node packages/db-connection/bench/overhead.mjs
import middy from '@middy/core'
import dbConnection from '@middy-downstream/db-connection'
import mysql from 'mysql2/promise'
import { cpuSplit, printSplit, runPinned } from '../../../bench/cpu-split.mjs'
// By path: the testing package's index also loads its Jest invariant suite.
import { fakeContext } from '../../lambda-sim/dist/index.js'
import { MariaDbServer } from '../../testing/dist/servers/mariadb.js'

if (!runPinned()) process.exit()

const server = await MariaDbServer.start()
const { config } = server
const raw = await mysql.createConnection({ ...config, trace: false })
raw.on('error', () => {})
const selects = (run, n) => async () => {
  let rows
  for (let i = 0; i < n; i++) rows = await run('SELECT 1 AS one')
  return rows
}
const pair = (n) => ({
  bare: middy().handler(selects(async (sql) => (await raw.query(sql))[0], n)),
  managed: middy()
    .use(dbConnection({ config }))
    .handler((_event, context) => selects((sql) => context.db.query(sql), n)()),
})
console.log(`Node ${process.version}: db-connection against a raw mysql2 connection, one private MariaDB.`)
const split = await cpuSplit(
  { one: pair(1), eleven: pair(11) },
  { contextOf: fakeContext, rounds: 25, invocations: 1000 },
)
printSplit('db-connection', 'SELECT 1', split)
raw.destroy()
await server.dispose()
// The managed connection lives at module scope for the life of the process, as in Lambda.
process.exit(0)
