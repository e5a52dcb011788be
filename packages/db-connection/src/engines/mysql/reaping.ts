import type { Connection, RowDataPacket } from 'mysql2/promise'
import { type ReapOptions, type ReapResult, shortestFloorSeconds } from '../../engine.js'
import { maxFunctionTimeoutSeconds, reapSlackSeconds } from '../../options.js'
import { fleetAttribute, timeoutAttribute } from './adapter.js'
import { runStatement } from './statement.js'

/**
 * Errors that are the server's answer "you cannot see connection attributes": no SELECT on
 * performance_schema (1142, 1044), or no such table (1146, a server without performance_schema).
 */
const unattributedErrnos = new Set([1044, 1142, 1146])

/**
 * One statement per pass (the comment tags it for tests that inject a fault into exactly this
 * statement). `visible`: whether the server shows our own connection's fleet marker, i.e. whether
 * it attributes connections at all. Then every asleep connection of this fleet (its marker, same
 * user and database), with how long it has been idle and ITS OWNER's floor: declared function
 * timeout + slack, so no live invocation of any function can be between two statements on one
 * idle longer than that. A connection without our marker (another application, a console) is
 * never listed. The probe and the list are one round trip: a separate probe cost every new
 * environment one more statement.
 */
export const reapSql = `SELECT v.visible, p.ID AS id, p.TIME AS idle,
    GREATEST(?, COALESCE(CAST(t.ATTR_VALUE AS UNSIGNED), ${maxFunctionTimeoutSeconds}) + ${reapSlackSeconds}) AS floor_s
  FROM (SELECT COUNT(*) AS visible FROM performance_schema.session_connect_attrs
        WHERE PROCESSLIST_ID = CONNECTION_ID() AND ATTR_NAME = '${fleetAttribute}') v
  LEFT JOIN (information_schema.PROCESSLIST p
    JOIN performance_schema.session_connect_attrs f
      ON f.PROCESSLIST_ID = p.ID AND f.ATTR_NAME = '${fleetAttribute}' AND f.ATTR_VALUE = ?
    LEFT JOIN performance_schema.session_connect_attrs t
      ON t.PROCESSLIST_ID = p.ID AND t.ATTR_NAME = '${timeoutAttribute}')
  ON p.COMMAND = 'Sleep' AND p.USER = ? AND p.DB <=> ? AND p.ID <> CONNECTION_ID() /* mdd reap */`

interface FleetRow {
  visible: number | string
  id: number | null
  idle: number | null
  floor_s: number | string | null
}

/** Random order: concurrent reapers then pick different zombies instead of racing for the oldest. */
const shuffled = <T>(items: T[]): T[] => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[items[i], items[j]] = [items[j]!, items[i]!]
  }
  return items
}

/**
 * How long no pass can find a candidate: the soonest a listed connection reaches its floor, and at
 * most the shortest floor any connection can have (one not asleep yet, or not opened yet). PROCESSLIST
 * counts whole seconds, so a second is taken off.
 */
const quietFor = (waiting: { idle: number; floor: number }[], minIdleSeconds: number): number => {
  const soonest = Math.min(
    shortestFloorSeconds(minIdleSeconds, reapSlackSeconds),
    ...waiting.map(({ idle, floor }) => floor - idle),
  )
  return Math.max(0, soonest - 1) * 1000
}

/**
 * Kills this fleet's zombies, at most `max`, never its own connection. Two environments racing to
 * kill one thread is harmless: the loser gets "unknown thread", ignored. Between the list and the
 * KILL, a zombie whose environment thaws may start a statement: MySQL has no conditional KILL, so
 * that statement fails as a lost connection, which the owner re-runs only when it was never sent
 * (see the README, "Reaping").
 */
export const reapZombies = async (connection: Connection, options: ReapOptions): Promise<ReapResult> => {
  const { user, database, fleet, minIdleSeconds, max, deadline, events } = options
  const started = Date.now()
  let rows: FleetRow[]
  try {
    rows = (await runStatement(
      connection,
      'query',
      reapSql,
      [minIdleSeconds, fleet, user, database ?? null],
      deadline.bound(1_000),
    )) as RowDataPacket[] as FleetRow[]
  } catch (error) {
    const errno = (error as { errno?: number }).errno ?? 0
    if (unattributedErrnos.has(errno)) return { attribution: 'unattributed', killed: 0 }
    return { attribution: 'unknown', killed: 0 }
  }
  if (!(Number(rows[0]?.visible) > 0)) return { attribution: 'unattributed', killed: 0 }
  const listed = rows
    .filter((row) => row.id !== null)
    .map((row) => ({ id: Number(row.id), idle: Number(row.idle), floor: Number(row.floor_s) }))
  const ripe = listed.filter(({ idle, floor }) => idle >= floor)
  const candidates = shuffled(ripe).slice(0, Math.max(0, max))
  let killed = 0
  let gone = 0
  for (const { id } of candidates) {
    if (deadline.expired) break
    try {
      await runStatement(connection, 'query', 'KILL CONNECTION ?', [id], deadline.bound(1_000))
      killed += 1
    } catch (error) {
      // 1094 ER_NO_SUCH_THREAD: another environment got there first.
      if ((error as { errno?: number }).errno !== 1094) throw error
    }
    gone += 1
  }
  events.emit({ type: 'reap', count: killed, durationMs: Date.now() - started, reason: 'fleet-marker' })
  // Zombies left for the next pass (more than `max`, or no time to kill them all): no quiet time.
  const quietForMs =
    gone < ripe.length
      ? 0
      : quietFor(
          listed.filter(({ idle, floor }) => idle < floor),
          minIdleSeconds,
        )
  return { attribution: 'attributed', killed, quietForMs }
}
