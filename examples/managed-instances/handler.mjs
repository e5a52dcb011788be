// A db-connection handler with every option at its default, for the Managed Instances measurement.
import middy from '@middy/core'
import dbConnection from '@middy-downstream/db-connection'

export const handler = middy()
  .use(
    dbConnection({
      config: {
        host: process.env.DB_HOST ?? 'localhost',
        port: Number(process.env.DB_PORT ?? 3306),
        user: process.env.DB_USER ?? 'root',
        password: process.env.DB_PASSWORD ?? '',
        database: 'test',
      },
    }),
  )
  .handler(async (event, context) => {
    await context.db.query('SELECT 1')
    // Holds the connection a while, as a handler doing real work between statements.
    await new Promise((resolve) => setTimeout(resolve, event.pauseMs ?? 50))
    await context.db.query('SELECT 2')
    return { ok: true }
  })
