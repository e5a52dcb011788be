import type { Connection, RowDataPacket } from 'mysql2/promise'
import { isMariaDb } from './mysql-adapter.js'
import { runStatement } from './statement.js'

export interface CapacitySample {
  maxConnections: number
  usedConnections: number
  /** 0 when the server sets no per-user limit. */
  maxUserConnections: number
  userConnections: number
  utilization: number
  sampledAt: number
}

/**
 * One query that reads the server's limits and how many connections are in use. It reads status
 * variables, not the process list, unless a per-user limit is set (then it counts the user's
 * threads): serverless-mysql's full process-list read on every invocation is what users saw at
 * 100% database CPU.
 */
export const sampleCapacity = async (
  connection: Connection,
  user: string,
  timeoutMs: number,
): Promise<CapacitySample> => {
  const statusTable = isMariaDb(connection)
    ? 'information_schema.GLOBAL_STATUS'
    : 'performance_schema.global_status'
  const rows = (await runStatement(
    connection,
    'query',
    `SELECT @@GLOBAL.max_connections AS maxConnections, @@GLOBAL.max_user_connections AS maxUserConnections,
      (SELECT VARIABLE_VALUE FROM ${statusTable} WHERE VARIABLE_NAME = 'THREADS_CONNECTED') AS usedConnections,
      IF(@@GLOBAL.max_user_connections > 0,
        (SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = ?), 0) AS userConnections`,
    [user],
    timeoutMs,
  )) as RowDataPacket[]
  const row = rows[0] ?? {}
  const maxConnections = Number(row.maxConnections)
  const usedConnections = Number(row.usedConnections)
  const maxUserConnections = Number(row.maxUserConnections)
  const userConnections = Number(row.userConnections)
  const counts = { maxConnections, usedConnections, maxUserConnections, userConnections }
  return { ...counts, utilization: utilizationOf(counts), sampledAt: Date.now() }
}

/** How full the server is: the higher of the server-wide and the per-user fraction in use. */
export const utilizationOf = (
  sample: Pick<
    CapacitySample,
    'maxConnections' | 'usedConnections' | 'maxUserConnections' | 'userConnections'
  >,
): number =>
  Math.max(
    sample.maxConnections > 0 ? sample.usedConnections / sample.maxConnections : 0,
    sample.maxUserConnections > 0 ? sample.userConnections / sample.maxUserConnections : 0,
  )
