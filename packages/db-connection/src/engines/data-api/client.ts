import type { RDSDataClient } from '@aws-sdk/client-rds-data'
import type { ConnectionAdapter } from '@middy-downstream/core'

/** Where statements go: the client and the cluster, secret and database every call names. */
export interface DataApiTarget {
  client: RDSDataClient
  resourceArn: string
  secretArn: string
  database?: string
  schema?: string
  /** Built here (destroyed on close) or the user's (left alone). */
  owned: boolean
}

/** The Data API settings: `{ config: { resourceArn, secretArn, database, schema?, client? } }`. */
export interface DataApiConfig {
  /** The Aurora cluster's ARN. */
  resourceArn: string
  /** The ARN of the Secrets Manager secret holding the database credentials. */
  secretArn: string
  /** The database (MySQL) or database name (PostgreSQL) statements run in. */
  database?: string
  /** PostgreSQL only: the schema. */
  schema?: string
  /** Your own client (region, credentials, endpoint, tracing). Default: one built with keep-alive. */
  client?: RDSDataClient
}

/**
 * The config as the generic layer stores and fingerprints it: the client becomes a function of
 * its identity (fingerprints walk objects, and an SDK client is a large cyclic one).
 */
const clientRefs = new WeakMap<RDSDataClient, () => RDSDataClient>()
export const storable = (config: DataApiConfig): DataApiConfig => {
  const { client } = config
  if (client === undefined) return { ...config }
  let ref = clientRefs.get(client)
  if (ref === undefined) {
    ref = () => client
    clientRefs.set(client, ref)
  }
  return { ...config, client: ref as unknown as RDSDataClient }
}

/** One client per environment, reusing one TLS connection: keep-alive agent, no SDK retries (ours are deadline-aware). */
const buildClient = async (): Promise<RDSDataClient> => {
  const [{ RDSDataClient }, { KeepaliveHttpsAgent, KeepaliveRequestHandler }] = await Promise.all([
    import('@aws-sdk/client-rds-data'),
    import('@middy-downstream/keepalive-agent'),
  ])
  const httpsAgent = new KeepaliveHttpsAgent({ keepAlive: true, maxSockets: 50, timeout: 30_000 })
  // POSTs are not idempotent: a reset socket is not replayed by the handler.
  const requestHandler = new KeepaliveRequestHandler({ httpsAgent }, { retryOnReset: false })
  return new RDSDataClient({ requestHandler, maxAttempts: 1 })
}

/** No connection to open, ping, reset or count: the adapter only holds the client. */
export const dataApiAdapter = (config: DataApiConfig): ConnectionAdapter<DataApiTarget> => ({
  connect: async () => {
    const ref = config.client as unknown as (() => RDSDataClient) | undefined
    const { resourceArn, secretArn, database, schema } = config
    const client = ref ? ref() : await buildClient()
    return { client, resourceArn, secretArn, database, schema, owned: ref === undefined }
  },
  ping: async () => undefined,
  close: async (target) => {
    if (target.owned) target.client.destroy()
  },
  destroy: (target) => {
    if (target.owned) target.client.destroy()
  },
  isBroken: () => false,
  classifyConnectError: () => 'fatal',
})
