// The naive pattern on PostgreSQL: one pg.Client per environment, kept at module scope so warm
// invocations reuse it, and never closed. A reclaimed environment leaves it open on the server.
import pg from 'pg'
import { dbConfigFrom } from './db-config.mjs'

const config = dbConfigFrom(process.env)

let client // a Promise of the connected client: module scope, one per environment

const connect = async () => {
  const opened = new pg.Client(config)
  // Forget a connection the server dropped, so the next invocation opens another.
  opened.on('error', () => {
    client = undefined
  })
  try {
    await opened.connect()
    return opened
  } catch (error) {
    client = undefined // e.g. 53300 too_many_connections: try again on the next invocation
    throw error
  }
}

export const handler = async () => {
  client ??= connect()
  const { rows } = await (await client).query('SELECT pg_backend_pid() AS id')
  return { connectionId: rows[0].id }
}
