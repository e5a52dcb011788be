import type { Connection, RowDataPacket } from 'mysql2/promise'
import { type CapacitySample, capacitySample } from '../../engine.js'
import { isMariaDb } from './adapter.js'
import { runStatement } from './statement.js'

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
  return capacitySample({ maxConnections, usedConnections, maxUserConnections, userConnections })
}
