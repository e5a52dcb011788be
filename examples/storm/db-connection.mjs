// Middy with @middy-downstream/db-connection, defaults plus the function's timeout: one managed
// connection per environment, opened on the first query, checked after a freeze, released by the
// `auto` policy. `functionTimeout` (the function's configured timeout, 3 s in the demo) lets other
// environments reap this one's connection once it has been idle 3 + 2 s; without it they wait
// Lambda's maximum, 900 s.
import middy from '@middy/core'
import dbConnection from '@middy-downstream/db-connection'

export const handler = middy()
  .use(
    dbConnection({
      config: {
        host: process.env.DB_HOST ?? '127.0.0.1',
        port: Number(process.env.DB_PORT ?? 3306),
        user: process.env.DB_USER ?? 'root',
        password: process.env.DB_PASSWORD ?? '',
        database: process.env.DB_NAME ?? 'test',
      },
      functionTimeout: Number(process.env.FUNCTION_TIMEOUT_S ?? 3),
    }),
  )
  .handler(async (_event, context) => {
    const rows = await context.db.query('SELECT CONNECTION_ID() AS id')
    return { connectionId: rows[0].id }
  })
