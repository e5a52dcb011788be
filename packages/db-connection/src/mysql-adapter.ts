import type { ConnectionAdapter } from '@middy-downstream/core'
import type { Connection, ConnectionOptions } from 'mysql2/promise'
import { classifyConnectError } from './classify.js'
import { forgetAddressAfter, resolvedConnectOptions } from './resolved-host.js'
import { runStatement } from './statement.js'

/** The attribute that marks this fleet's connections, visible in performance_schema. */
export const fleetAttribute = 'mdd_fleet'

type CoreConnection = {
  _fatalError?: unknown
  _protocolError?: unknown
  _closing?: boolean
  stream?: { destroyed?: boolean }
  serverVersion?: string
  _handshakePacket?: { serverVersion?: string }
}

const core = (connection: Connection): CoreConnection =>
  (connection as unknown as { connection: CoreConnection }).connection

/** Whether the server is MariaDB (its status tables live in information_schema, not performance_schema). */
export const isMariaDb = (connection: Connection): boolean =>
  /mariadb/i.test(core(connection)._handshakePacket?.serverVersion ?? '')

export interface MysqlAdapterOptions {
  config: ConnectionOptions
  fleet: string
  createConnection: (options: ConnectionOptions) => Promise<Connection>
}

export const mysqlAdapter = ({
  config,
  fleet,
  createConnection,
}: MysqlAdapterOptions): ConnectionAdapter<Connection> => ({
  connect: async ({ secret, timeoutMs }) => {
    const connection = await createConnection({
      ...config,
      ...(await resolvedConnectOptions(config, timeoutMs)),
      ...(secret === undefined ? {} : { password: secret }),
      connectTimeout: timeoutMs,
      connectAttributes: { ...config.connectAttributes, [fleetAttribute]: fleet },
    }).catch((error: unknown) => {
      forgetAddressAfter(config, error)
      throw error
    })
    // An idle connection that the server drops emits 'error'; unhandled, it would crash the process.
    connection.on('error', () => {})
    return connection
  },
  ping: (connection, timeoutMs) => runStatement(connection, 'query', 'SELECT 1', undefined, timeoutMs),
  close: (connection) => connection.end(),
  destroy: (connection) => connection.destroy(),
  isBroken: (connection) => {
    const c = core(connection)
    return Boolean(c._fatalError || c._protocolError || c._closing || c.stream?.destroyed)
  },
  classifyConnectError,
})
