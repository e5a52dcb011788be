// A bystander function: another Lambda function on the same database user and database, with a
// 60 s timeout, whose every invocation holds a transaction open across a pause (waiting on another
// service). A plain connection per invocation (mysql2 or pg, after DB_ENGINE), so it is the same
// bystander whichever handler the storm runs. A transaction that began and did not commit is a
// broken one.
import { dbConfigFrom } from './db-config.mjs'
import { openClient } from './sql-client.mjs'

const config = dbConfigFrom(process.env)

const totals = { committed: 0, broken: 0, statements: 0 }
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Connects, waiting for a free slot while the server is full (that is not a broken transaction). */
const connect = async (until) => {
  for (;;) {
    try {
      return await openClient(process.env.DB_ENGINE, config)
    } catch (error) {
      if (Date.now() > until) throw error
      await sleep(50 + Math.random() * 100)
    }
  }
}

const run = async (connection, sql) => {
  totals.statements += 1
  return connection.query(sql)
}

export const handler = async (event, context) => {
  const connection = await connect(Date.now() + context.getRemainingTimeInMillis() - 10_000)
  try {
    await run(connection, 'BEGIN')
    await run(connection, "INSERT INTO ledger (note) VALUES ('reports')")
    await sleep(event.pauseMs ?? 5000)
    await run(connection, "INSERT INTO ledger (note) VALUES ('reports')")
    await run(connection, 'COMMIT')
    totals.committed += 1
  } catch (error) {
    totals.broken += 1
    connection.destroy()
    throw error
  }
  if (connection.quitCounts) totals.statements += 1 // COM_QUIT
  await connection.close()
  return { committed: true }
}

export const stats = () => totals
