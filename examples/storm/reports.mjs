// A bystander function: another Lambda function on the same database user and database, with a
// 60 s timeout, whose every invocation holds a transaction open across a pause (waiting on another
// service). Plain mysql2, a connection per invocation, so it is the same bystander whichever
// handler the storm runs. A transaction that began and did not commit is a broken one.
import mysql from 'mysql2/promise'
import { dbConfigFrom } from './db-config.mjs'

const config = dbConfigFrom(process.env)

const totals = { committed: 0, broken: 0, statements: 0 }
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Connects, waiting for a free slot while the server is full (that is not a broken transaction). */
const connect = async (until) => {
  for (;;) {
    try {
      const connection = await mysql.createConnection(config)
      connection.on('error', () => {})
      return connection
    } catch (error) {
      if (Date.now() > until) throw error
      await sleep(50 + Math.random() * 100)
    }
  }
}

const run = async (connection, sql, values) => {
  totals.statements += 1
  return connection.query(sql, values)
}

export const handler = async (event, context) => {
  const connection = await connect(Date.now() + context.getRemainingTimeInMillis() - 10_000)
  try {
    await run(connection, 'BEGIN')
    await run(connection, 'INSERT INTO ledger (note) VALUES (?)', ['reports'])
    await sleep(event.pauseMs ?? 5000)
    await run(connection, 'INSERT INTO ledger (note) VALUES (?)', ['reports'])
    await run(connection, 'COMMIT')
    totals.committed += 1
  } catch (error) {
    totals.broken += 1
    connection.destroy()
    throw error
  }
  totals.statements += 1 // COM_QUIT
  await connection.end()
  return { committed: true }
}

export const stats = () => totals
