// Middy with @middy-downstream/db-connection/data-api: statements over HTTP to the Data API (here
// the local endpoint, with dummy credentials), no database connection held. A paused cluster
// (DatabaseResumingException) is waited for inside the remaining time.
import { RDSDataClient } from '@aws-sdk/client-rds-data'
import middy from '@middy/core'
import dbConnection from '@middy-downstream/db-connection/data-api'

const client = new RDSDataClient({
  endpoint: process.env.DATA_API_ENDPOINT,
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-only' },
  maxAttempts: 1, // the middleware's retries are deadline-aware; the SDK's are not
})

export const handler = middy()
  .use(
    dbConnection({
      config: {
        resourceArn: process.env.DATA_API_RESOURCE_ARN ?? '',
        secretArn: process.env.DATA_API_SECRET_ARN ?? '',
        database: process.env.DB_NAME,
        client,
      },
    }),
  )
  .handler(async (_event, context) => {
    const rows = await context.db.query('SELECT CONNECTION_ID() AS id')
    return { connectionId: rows[0].id }
  })
