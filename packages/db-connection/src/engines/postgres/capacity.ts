import type { Client } from 'pg'
import { type CapacitySample, capacitySample, type ReapOptions, type ReapResult } from '../../engine.js'
import { maxFunctionTimeoutSeconds, reapSlackSeconds } from '../../options.js'
import { runStatement } from './statement.js'

type Row = Record<string, string | number | boolean | null>

/**
 * One statement: the connections a non-superuser may open (`max_connections` minus
 * `superuser_reserved_connections`, and the database's limit where lower), the client backends
 * in use, and the role's own limit and count where one is set.
 */
export const sampleCapacity = async (
  client: Client,
  user: string,
  timeoutMs: number,
): Promise<CapacitySample> => {
  const rows = (await runStatement(
    client,
    'query',
    `SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int AS max_connections,
       (SELECT datconnlimit FROM pg_database WHERE datname = current_database()) AS db_limit,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS used,
       (SELECT rolconnlimit FROM pg_roles WHERE rolname = $1) AS role_limit,
       (SELECT count(*) FROM pg_stat_activity WHERE usename = $1)::int AS role_used`,
    [user],
    timeoutMs,
  )) as Row[]
  const row = rows[0] ?? {}
  const dbLimit = Number(row.db_limit ?? -1)
  const maxConnections =
    dbLimit > 0 ? Math.min(Number(row.max_connections), dbLimit) : Number(row.max_connections)
  const usedConnections = Number(row.used)
  const roleLimit = Number(row.role_limit ?? -1)
  const maxUserConnections = Math.max(roleLimit, 0)
  const userConnections = Number(row.role_used)
  return capacitySample({ maxConnections, usedConnections, maxUserConnections, userConnections })
}

/** The owner's declared timeout, read from `application_name` (`mdd:<seconds>:<fleet>`). */
const ownerTimeout = `COALESCE(substring(application_name from '^mdd:([0-9]+):')::int, ${maxFunctionTimeoutSeconds})`

/**
 * Candidates: `idle` connections of this fleet and user, each idle longer than ITS OWNER's
 * declared timeout + slack (and `minIdleSeconds`), so no live invocation of any function can be
 * between two statements on it. Never `idle in transaction`, never `active`, never our own, never
 * a connection whose name this fleet would not have given it (another application).
 */
const candidatesSql = `SELECT pid FROM pg_stat_activity
  WHERE usename = $2 AND state = 'idle' AND pid <> pg_backend_pid()
    AND application_name = left('mdd:' || substring(application_name from '^mdd:([0-9]+):') || ':' || $1, 63)
    AND state_change < now() - make_interval(secs => GREATEST($3, ${ownerTimeout} + ${reapSlackSeconds}))
  ORDER BY state_change LIMIT $4`

/** The same conditions again, in the terminating statement: a zombie that thawed meanwhile is left alone. */
const terminateSql = `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
  WHERE pid = $1 AND state = 'idle'
    AND state_change < now() - make_interval(secs => GREATEST($2, ${ownerTimeout} + ${reapSlackSeconds}))`

/**
 * Terminates this fleet's zombies, oldest first, at most `max`. The role needs to be the same as
 * theirs, or hold `pg_signal_backend`. `application_name` is always visible in
 * `pg_stat_activity`: connections are always attributed.
 */
export const reapZombies = async (client: Client, options: ReapOptions): Promise<ReapResult> => {
  const { user, fleet, minIdleSeconds, max, deadline, events } = options
  if (max <= 0) return { attribution: 'attributed', killed: 0 }
  const started = Date.now()
  const rows = (await runStatement(
    client,
    'query',
    candidatesSql,
    [fleet, user, minIdleSeconds, max],
    deadline.bound(1_000),
  )) as Row[]
  let killed = 0
  for (const { pid } of rows) {
    if (deadline.expired) break
    const done = (await runStatement(
      client,
      'query',
      terminateSql,
      [Number(pid), minIdleSeconds],
      deadline.bound(1_000),
    )) as Row[]
    if (done[0]?.ok === true) killed += 1
  }
  events.emit({ type: 'reap', count: killed, durationMs: Date.now() - started, reason: 'application-name' })
  return { attribution: 'attributed', killed }
}
