import { type ConnectFailure, isNetworkErrorCode } from '@middy-downstream/core'
import { rememberTest } from '../../memo.js'

interface MysqlError {
  code?: string
  errno?: number
  fatal?: boolean
  message?: string
}

/** ER_CON_COUNT_ERROR, ER_TOO_MANY_USER_CONNECTIONS, ER_USER_LIMIT_REACHED. */
const capacityErrnos = new Set([1040, 1203, 1226])
/** ER_ACCESS_DENIED_ERROR, ER_DBACCESS_DENIED_ERROR, ER_ACCESS_DENIED_NO_PASSWORD_ERROR. */
const authErrnos = new Set([1045, 1044, 1698])
/** mysql2's own codes for a connection that broke or a statement that never got an answer. */
const protocolLossCodes = new Set(['PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT'])
const isNetworkFailure = (code: unknown) =>
  isNetworkErrorCode(code) || (typeof code === 'string' && protocolLossCodes.has(code))

export const classifyConnectError = (error: unknown): ConnectFailure => {
  const e = error as MysqlError
  if (e?.errno !== undefined && capacityErrnos.has(e.errno)) return 'capacity'
  if (e?.errno !== undefined && authErrnos.has(e.errno)) return 'authentication'
  if (isNetworkFailure(e?.code)) return 'network'
  return 'fatal'
}

/** The connection is gone: the statement in flight may or may not have run on the server. */
export const isConnectionLost = (error: unknown): boolean => {
  const e = error as MysqlError
  return isNetworkFailure(e?.code) || e?.fatal === true
}

/** mysql2 refused the statement because the connection was already closed: it was never sent. */
export const wasNeverSent = (error: unknown): boolean =>
  /Can't add new command when connection is in closed state/.test((error as MysqlError)?.message ?? '')

export const isQueryTimeout = (error: unknown): boolean =>
  (error as MysqlError)?.code === 'PROTOCOL_SEQUENCE_TIMEOUT'

/**
 * Statements that leave state on the session beyond their own result: variables, locks,
 * temporary tables, prepared statements, a transaction opened by hand, another database. A
 * plain SELECT/INSERT/UPDATE/DELETE does not match (`UPDATE … SET` is not `SET` at the start),
 * so an ordinary invocation pays no reset. A false positive costs one reset round trip.
 */
const sessionChanging =
  /^\s*(?:SET\b|USE\b|LOCK\b|UNLOCK\b|BEGIN\b|START\b|XA\b|PREPARE\b|HANDLER\b|SAVEPOINT\b|CREATE\s+TEMPORARY\b)|GET_LOCK\s*\(|@\s*[A-Za-z_`'"]|\bTEMPORARY\b/i

export const changesSession = rememberTest((sql) => sessionChanging.test(sql))
