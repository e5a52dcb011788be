// A fan-out Lambda handler: reads many S3 objects at once and asks an HTTP API for a status.
// `handler` uses keepalive-agent: one S3 client at module scope on the shared request handler,
// fetch through the shared dispatcher. `unmanaged` is the same code on the SDK's default handler
// and fetch without a dispatcher (undici's default pool).
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3'
import middy from '@middy/core'
import keepaliveAgent, { createHttpResources } from '@middy-downstream/keepalive-agent'

const options = { maxSockets: 256 }

const s3Config = {
  region: process.env.AWS_REGION ?? 'us-east-1',
  // A local endpoint (the example's stand-in for S3) needs path-style URLs and any credentials.
  ...(process.env.S3_ENDPOINT
    ? {
        endpoint: process.env.S3_ENDPOINT,
        forcePathStyle: true,
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
      }
    : {}),
}

// Created once per environment, at module scope, and reused by every invocation.
const s3 = new S3Client({ ...s3Config, requestHandler: createHttpResources(options).requestHandler })
const plainS3 = new S3Client(s3Config)

const codeOf = (error) => error?.code ?? error?.cause?.code ?? error?.name ?? 'Error'

const work = async (event, client, dispatcher) => {
  const reads = event.keys.map(async (Key) => {
    const response = await client.send(new GetObjectCommand({ Bucket: event.bucket, Key }))
    await response.Body.transformToString()
    return response.$metadata.attempts
  })
  const status = fetch(event.statusUrl, dispatcher ? { dispatcher } : {}).then((response) => response.json())
  const [objects, fetched] = await Promise.all([Promise.allSettled(reads), Promise.allSettled([status])])
  const failures = [...objects, ...fetched]
    .filter((r) => r.status === 'rejected')
    .map((r) => codeOf(r.reason))
  return {
    objectsRead: objects.filter((r) => r.status === 'fulfilled').length,
    // More attempts than objects: the SDK had to send some again after a reset.
    sdkAttempts: objects.reduce((sum, r) => sum + (r.status === 'fulfilled' ? r.value : 0), 0),
    status: fetched[0].status === 'fulfilled' ? 'ok' : 'failed',
    failures,
  }
}

/** With keepalive-agent. */
export const handler = middy()
  .use(keepaliveAgent(options))
  .handler(async (event, context) => work(event, s3, context.http.dispatcher))

/** The same work without it. */
export const unmanaged = middy().handler(async (event) => work(event, plainS3))

/** keepalive-agent's counters in this environment. */
export const stats = () => ({ ...createHttpResources(options).stats })
