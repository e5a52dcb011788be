// serverless-postgres (serverless-pg), used as its README says: the client declared outside the
// handler, `connect()`, `query`, then `clean()` at the end of the handler (its connection
// management: when the server is nearly full, terminate this library's idle connections). The
// README's example sets `delayMs: 3000` and advises setting `maxConnections` to the server's.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const ServerlessClient = require('serverless-postgres')

const client = new ServerlessClient({
  user: process.env.DB_USER,
  host: process.env.DB_HOST,
  database: process.env.DB_NAME,
  password: process.env.DB_PASSWORD,
  port: process.env.DB_PORT,
  delayMs: 3000,
  maxConnections: Number(process.env.DB_MAX_CONNECTIONS ?? 100),
})

export const handler = async () => {
  await client.connect()
  const result = await client.query('SELECT pg_backend_pid() AS id')
  await client.clean()
  return { connectionId: result.rows[0].id }
}
