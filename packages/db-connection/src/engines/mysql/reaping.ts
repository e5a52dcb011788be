import type { Connection, RowDataPacket } from 'mysql2/promise'
import type { Attribution, ReapOptions } from '../../engine.js'
import { maxFunctionTimeoutSeconds, reapSlackSeconds } from '../../options.js'
import { fleetAttribute, timeoutAttribute } from './adapter.js'
import { runStatement } from './statement.js'

/**
 * Errors that are the server's answer "you cannot see connection attributes": no SELECT on
 * performance_schema (1142, 1044), or no such table (1146, a server without performance_schema).
 */
const unattributedErrnos = new Set([1044, 1142, 1146])

/** The probe's text, also matched by tests that inject a fault into exactly this statement. */
export const attributionProbeSql = `SELECT COUNT(*) AS n FROM performance_schema.session_connect_attrs
        WHERE PROCESSLIST_ID = CONNECTION_ID() AND ATTR_NAME = ? /* mdd attribution probe */`

/** Asks the server whether it shows our own connection's fleet marker. Never throws. */
export const probeAttribution = async (connection: Connection, timeoutMs: number): Promise<Attribution> => {
  try {
    const rows = (await runStatement(
      connection,
      'query',
      attributionProbeSql,
      [fleetAttribute],
      timeoutMs,
    )) as RowDataPacket[]
    return Number(rows[0]?.n) > 0 ? 'attributed' : 'unattributed'
  } catch (error) {
    return unattributedErrnos.has((error as { errno?: number }).errno ?? 0) ? 'unattributed' : 'unknown'
  }
}

/**
 * Candidates: asleep connections of this fleet (its marker, same user and database), each idle
 * longer than ITS OWNER's declared function timeout + slack, so no live invocation of any
 * function can be between two statements on it. A connection without our marker (another
 * application, a console) is never a candidate. Only called where the server attributes
 * connections (performance_schema): without attribution nothing can be proven, and nothing is
 * killed.
 */
const candidatesSql = `SELECT p.ID AS id FROM information_schema.PROCESSLIST p
  JOIN performance_schema.session_connect_attrs f
    ON f.PROCESSLIST_ID = p.ID AND f.ATTR_NAME = '${fleetAttribute}' AND f.ATTR_VALUE = ?
  LEFT JOIN performance_schema.session_connect_attrs t
    ON t.PROCESSLIST_ID = p.ID AND t.ATTR_NAME = '${timeoutAttribute}'
  WHERE p.COMMAND = 'Sleep' AND p.USER = ? AND p.DB <=> ? AND p.ID <> CONNECTION_ID()
    AND p.TIME >= GREATEST(?, COALESCE(CAST(t.ATTR_VALUE AS UNSIGNED), ${maxFunctionTimeoutSeconds}) + ${reapSlackSeconds})
  ORDER BY p.TIME DESC LIMIT ?`

/**
 * Kills this fleet's zombies, oldest first, at most `max`, never its own connection. Two
 * environments racing to kill one thread is harmless: the loser gets "unknown thread", ignored.
 */
export const reapZombies = async (connection: Connection, options: ReapOptions): Promise<number> => {
  const { user, database, fleet, minIdleSeconds, max, deadline, events } = options
  if (max <= 0) return 0
  const started = Date.now()
  const rows = (await runStatement(
    connection,
    'query',
    candidatesSql,
    [fleet, user, database ?? null, minIdleSeconds, max],
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
  events.emit({ type: 'reap', count: killed, durationMs: Date.now() - started, reason: 'fleet-marker' })
  return killed
}
