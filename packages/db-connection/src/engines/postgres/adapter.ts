import type { ConnectionAdapter } from '@middy-downstream/core'
import pg, { type Client, type ClientConfig } from 'pg'
import { classifyConnectError } from './classify.js'
import { runStatement } from './statement.js'

/** Makes an unconnected `pg.Client` (a tracing wrapper, a test double). */
export type CreatePgClient = (config: ClientConfig) => Client

/**
 * `application_name` marks this fleet's connections in `pg_stat_activity` and declares the
 * owner's function timeout: `mdd:<seconds>:<fleet>` (63 bytes at most; a long fleet name is cut).
 * Reapers read the owner's timeout from it, whatever their own is.
 */
export const applicationNameOf = (fleet: string, ownerTimeoutSeconds: number): string =>
  `mdd:${ownerTimeoutSeconds}:${fleet}`.slice(0, 63)

type Internals = {
  _ending?: boolean
  _queryable?: boolean
  _connectionError?: boolean
  connection?: {
    stream?: { destroyed?: boolean; destroy?: () => void; ref?: () => void; unref?: () => void }
    parsedStatements?: Record<string, string>
  }
}

const internals = (client: Client) => client as unknown as Internals

export const pgAdapter = ({
  config,
  fleet,
  ownerTimeoutSeconds,
  createClient = (options) => new pg.Client(options),
}: {
  config: ClientConfig
  fleet: string
  ownerTimeoutSeconds: number
  createClient: CreatePgClient | undefined
}): ConnectionAdapter<Client> => ({
  connect: async ({ secret, timeoutMs }) => {
    const client = createClient({
      ...config,
      ...(secret === undefined || secret === '' ? {} : { password: secret }),
      connectionTimeoutMillis: timeoutMs,
      application_name: applicationNameOf(fleet, ownerTimeoutSeconds),
    })
    // An idle connection the server drops emits 'error'; unhandled, it would crash the process.
    client.on('error', () => {})
    try {
      await client.connect()
    } catch (error) {
      internals(client).connection?.stream?.destroy?.()
      throw error
    }
    // pg keeps the password on the client; nothing reads it after the handshake.
    Object.defineProperty(client, 'password', { value: undefined, writable: true, enumerable: false })
    return client
  },
  ping: (client, timeoutMs) => runStatement(client, 'query', 'SELECT 1', undefined, timeoutMs),
  close: (client) => client.end(),
  destroy: (client) => {
    internals(client).connection?.stream?.destroy?.()
    client.end().catch(() => {})
  },
  isBroken: (client) => {
    const c = internals(client)
    return Boolean(
      c._ending || c._connectionError || c._queryable === false || c.connection?.stream?.destroyed,
    )
  },
  classifyConnectError,
  // DISCARD ALL: settings, role, LISTEN, prepared statements, temporary tables, advisory locks.
  // It cannot run inside a transaction, so one left open (or aborted) is rolled back first.
  reset: async (client, timeoutMs) => {
    await runStatement(client, 'query', 'ROLLBACK', undefined, timeoutMs)
    await runStatement(client, 'query', 'DISCARD ALL', undefined, timeoutMs)
    const connection = internals(client).connection
    if (connection?.parsedStatements) connection.parsedStatements = {}
  },
  setRef: (client, ref) => {
    const stream = internals(client).connection?.stream
    if (ref) stream?.ref?.()
    else stream?.unref?.()
  },
})
