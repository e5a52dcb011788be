// The naive pattern: one mysql2 connection per environment, kept at module scope so warm
// invocations reuse it, and never closed. A reclaimed environment leaves it open on the server.
import mysql from 'mysql2/promise'

const config = {
  host: process.env.DB_HOST ?? '127.0.0.1',
  port: Number(process.env.DB_PORT ?? 3306),
  user: process.env.DB_USER ?? 'root',
  password: process.env.DB_PASSWORD ?? '',
  database: process.env.DB_NAME ?? 'test',
}

let connection // a Promise of the connection: module scope, one per environment

const connect = () =>
  mysql.createConnection(config).then(
    (opened) => {
      // Forget a connection the server dropped, so the next invocation opens another.
      opened.on('error', () => {
        connection = undefined
      })
      return opened
    },
    (error) => {
      connection = undefined // e.g. ER_CON_COUNT_ERROR: try again on the next invocation
      throw error
    },
  )

export const handler = async () => {
  connection ??= connect()
  const [rows] = await (await connection).query('SELECT CONNECTION_ID() AS id')
  return { connectionId: rows[0].id }
}
