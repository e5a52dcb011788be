import type { Connection, RowDataPacket } from 'mysql2/promise'
import { type CapacitySample, capacitySample, type ReapOptions } from '../../engine.js'
import { fleetAttribute, isMariaDb } from './adapter.js'
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

/** Whether this server shows our fleet marker for our own connection (performance_schema on). */
export const detectMarker = async (connection: Connection, timeoutMs: number): Promise<boolean> => {
  try {
    const rows = (await runStatement(
      connection,
      'query',
      `SELECT COUNT(*) AS n FROM performance_schema.session_connect_attrs
        WHERE PROCESSLIST_ID = CONNECTION_ID() AND ATTR_NAME = ?`,
      [fleetAttribute],
      timeoutMs,
    )) as RowDataPacket[]
    return Number(rows[0]?.n) > 0
  } catch {
    return false
  }
}

/**
 * Kills idle connections of this fleet, oldest first, at most `max`, never its own. A candidate
 * must be asleep for at least `minIdleSeconds`, which is above the longest a live invocation can
 * leave its connection idle (the function timeout), so a live invocation between two queries is
 * never touched. Where the server shows connection attributes, only connections carrying this
 * fleet's marker are candidates; elsewhere, those of the same user and database. Two
 * environments racing to kill one thread is harmless: the loser gets "unknown thread", ignored.
 */
export const reapZombies = async (connection: Connection, options: ReapOptions): Promise<number> => {
  const { user, database, fleet, minIdleSeconds, max, deadline, events, markerVisible } = options
  if (max <= 0) return 0
  const started = Date.now()
  const marker = markerVisible
    ? ` AND ID IN (SELECT PROCESSLIST_ID FROM performance_schema.session_connect_attrs WHERE ATTR_NAME = '${fleetAttribute}' AND ATTR_VALUE = ?)`
    : ''
  const rows = (await runStatement(
    connection,
    'query',
    `SELECT ID AS id FROM information_schema.PROCESSLIST
      WHERE COMMAND = 'Sleep' AND USER = ? AND DB <=> ? AND TIME >= ? AND ID <> CONNECTION_ID()${marker}
      ORDER BY TIME DESC LIMIT ?`,
    [user, database ?? null, minIdleSeconds, ...(markerVisible ? [fleet] : []), max],
    deadline.bound(1_000),
  )) as RowDataPacket[]
  let killed = 0
  for (const { id } of rows) {
    if (deadline.expired) break
    try {
      await runStatement(connection, 'query', 'KILL CONNECTION ?', [Number(id)], deadline.bound(1_000))
      killed += 1
    } catch (error) {
      // 1094 ER_NO_SUCH_THREAD: another environment got there first.
      if ((error as { errno?: number }).errno !== 1094) throw error
    }
  }
  events.emit({
    type: 'reap',
    count: killed,
    durationMs: Date.now() - started,
    reason: markerVisible ? 'fleet-marker' : 'same-user-and-database',
  })
  return killed
}
