import { type ConnectFailure, isNetworkErrorCode } from '@middy-downstream/core'
import type { StatementFailure } from '../../engine.js'
import { rememberTest } from '../../memo.js'

interface PgError {
  code?: string
  message?: string
}

/** too_many_connections; the role's or the database's connection limit (also 53300). */
const capacityStates = new Set(['53300'])
/** cannot_connect_now (starting up, recovering, Aurora resuming): retried like a network fault. */
const transientStates = new Set(['57P03', '08006', '08001', '08004'])
/** invalid_password, invalid_authorization_specification. */
const authStates = new Set(['28P01', '28000'])
/** admin_shutdown (pg_terminate_backend), crash_shutdown, the connection failed. */
const lostStates = new Set(['57P01', '57P02', '08006', '08003'])

/** pg's own words for a socket that closed under it. */
const terminated =
  /Connection terminated|Client has encountered a connection error|connection timeout|timeout expired/i
/** pg refused to send: the client was closed or broken before the statement. */
const notQueryable = /is not queryable|Client was closed/i

export const classifyConnectError = (error: unknown): ConnectFailure => {
  const e = error as PgError
  if (e?.code && capacityStates.has(e.code)) return 'capacity'
  if (e?.code && authStates.has(e.code)) return 'authentication'
  if (e?.code && transientStates.has(e.code)) return 'network'
  if (isNetworkErrorCode(e?.code) || terminated.test(e?.message ?? '')) return 'network'
  return 'fatal'
}

/** Our statement timer's code: the statement missed its deadline. */
export const statementTimeoutCode = 'MDD_STATEMENT_TIMEOUT'

export const statementFailure = (error: unknown): StatementFailure => {
  const e = error as PgError
  if (e?.code === statementTimeoutCode) return 'timeout'
  if (notQueryable.test(e?.message ?? '')) return 'never-sent'
  if ((e?.code && lostStates.has(e.code)) || isNetworkErrorCode(e?.code) || terminated.test(e?.message ?? ''))
    return 'lost'
  return 'operation'
}

/**
 * Statements that leave state on the session: settings, LISTEN, prepared statements, cursors,
 * temporary tables, advisory locks, a transaction opened by hand, another role. Plain DML does
 * not match, so an ordinary invocation pays no DISCARD ALL.
 */
const sessionChanging =
  /^\s*(?:SET\b|RESET\b|LISTEN\b|PREPARE\b|DECLARE\b|BEGIN\b|START\b|LOCK\b|SAVEPOINT\b|CREATE\s+(?:LOCAL\s+|GLOBAL\s+)?TEMP)|pg_advisory_lock|pg_advisory_xact_lock|set_config\s*\(|\bTEMP(?:ORARY)?\s+TABLE\b/i

export const changesSession = rememberTest((sql) => sessionChanging.test(sql))
