// serverless-mysql, used as its README says: initialized at module scope, `query`, then `end()`
// at the end of the handler (its connection management: close when the server is nearly full,
// kill zombies).
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

// Require and initialize outside of your main handler
const mysql = require('serverless-mysql')({
  config: {
    host: process.env.DB_HOST ?? '127.0.0.1',
    port: Number(process.env.DB_PORT ?? 3306),
    user: process.env.DB_USER ?? 'root',
    password: process.env.DB_PASSWORD ?? '',
    database: process.env.DB_NAME ?? 'test',
  },
})

export const handler = async () => {
  // Run your query
  const rows = await mysql.query('SELECT CONNECTION_ID() AS id')
  // Run clean up function
  await mysql.end()
  return { connectionId: rows[0].id }
}
