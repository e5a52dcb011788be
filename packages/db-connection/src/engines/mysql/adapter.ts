import type { ConnectionAdapter } from '@middy-downstream/core'
import mysql, { type Connection, type ConnectionOptions } from 'mysql2/promise'
import { classifyConnectError } from './classify.js'
import { forgetAddressAfter, resolvedConnectOptions } from './resolved-host.js'
import { runStatement } from './statement.js'

/** The attribute that marks this fleet's connections, visible in performance_schema. */
export const fleetAttribute = 'mdd_fleet'

/**
 * The attribute that declares the owner's function timeout in seconds: how long a live invocation
 * can leave this connection idle. Reapers use it as this connection's floor, whatever their own
 * timeout is.
 */
export const timeoutAttribute = 'mdd_timeout_s'

type CoreConnection = {
  _fatalError?: unknown
  _protocolError?: unknown
  _closing?: boolean
  stream?: { destroyed?: boolean; destroy?: () => void; ref?: () => void; unref?: () => void }
  serverVersion?: string
  _handshakePacket?: { serverVersion?: string }
  config?: { user?: string; password?: string; password1?: string }
}

const core = (connection: Connection): CoreConnection =>
  (connection as unknown as { connection: CoreConnection }).connection

/** Whether the server is MariaDB (its status tables live in information_schema, not performance_schema). */
export const isMariaDb = (connection: Connection): boolean =>
  /mariadb/i.test(core(connection)._handshakePacket?.serverVersion ?? '')

export interface MysqlAdapterOptions {
  config: ConnectionOptions
  fleet: string
  /** The owner's function timeout in seconds, declared in the connection attributes. */
  functionTimeoutSeconds: number
  /** mysql2's `createConnection` unless given. */
  createConnection: ((options: ConnectionOptions) => Promise<Connection>) | undefined
}

/** The user a connection is logged in as now (`changeUser` on the raw connection changes it). */
export const currentUser = (connection: Connection): string | undefined => core(connection).config?.user

/**
 * Drops the socket now. mysql2's `destroy()` only ends the stream, which waits for the server's
 * answer: after a statement timeout that socket would keep the process alive until then.
 */
const destroyConnection = (connection: Connection): void => {
  core(connection).stream?.destroy?.()
  connection.destroy()
}

export const mysqlAdapter = ({
  config,
  fleet,
  functionTimeoutSeconds,
  createConnection = mysql.createConnection,
}: MysqlAdapterOptions): ConnectionAdapter<Connection> => ({
  connect: async ({ secret, timeoutMs }) => {
    const connection = await createConnection({
      // mysql2's `trace` captures a stack for every statement (5–8 µs each, measured in pnpm
      // bench) to show the caller in a driver error; the error this package throws already
      // carries the caller's async stack, with the driver's error as its cause.
      trace: false,
      ...config,
      ...(await resolvedConnectOptions(config, timeoutMs)),
      ...(secret === undefined ? {} : { password: secret }),
      connectTimeout: timeoutMs,
      connectAttributes: {
        ...config.connectAttributes,
        [fleetAttribute]: fleet,
        [timeoutAttribute]: String(functionTimeoutSeconds),
      },
    }).catch((error: unknown) => {
      // A failover moves the endpoint: the next attempt asks DNS again.
      forgetAddressAfter(config, error)
      throw error
    })
    // An idle connection that the server drops emits 'error'; unhandled, it would crash the process.
    connection.on('error', () => {})
    // mysql2 keeps the password in the connection's config for changeUser; a logged raw connection
    // would show it. Nothing else reads it after the handshake.
    const settings = core(connection).config
    if (settings) {
      settings.password = undefined
      settings.password1 = undefined
    }
    return connection
  },
  ping: (connection, timeoutMs) => runStatement(connection, 'query', 'SELECT 1', undefined, timeoutMs),
  close: (connection) => connection.end(),
  destroy: destroyConnection,
  // COM_RESET_CONNECTION: rolls back, drops variables, temporary tables, named locks and prepared
  // statements; the default database is selected again in case the invocation changed it.
  reset: async (connection, timeoutMs) => {
    await connection.reset()
    if (config.database) await runStatement(connection, 'query', 'USE ??', [config.database], timeoutMs)
  },
  setRef: (connection, ref) => {
    const stream = core(connection).stream
    if (ref) stream?.ref?.()
    else stream?.unref?.()
  },
  isBroken: (connection) => {
    const c = core(connection)
    return Boolean(c._fatalError || c._protocolError || c._closing || c.stream?.destroyed)
  },
  classifyConnectError,
})
