// Middy with @middy-downstream/db-connection/postgres, defaults plus the function's timeout: one
// managed connection per environment, opened on the first query, checked after a freeze, released
// by the `auto` policy. Reaping is by `application_name`, which PostgreSQL always shows.
import middy from '@middy/core'
import dbConnection from '@middy-downstream/db-connection/postgres'
import { dbConfigFrom } from './db-config.mjs'

export const handler = middy()
  .use(
    dbConnection({
      config: dbConfigFrom(process.env),
      functionTimeout: Number(process.env.FUNCTION_TIMEOUT_S ?? 3),
    }),
  )
  .handler(async (_event, context) => {
    const rows = await context.db.query('SELECT pg_backend_pid() AS id')
    return { connectionId: rows[0].id }
  })
