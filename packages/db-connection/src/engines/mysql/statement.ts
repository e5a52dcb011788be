import { type SettleHooks, settleWithin } from '@middy-downstream/core'
import mysql, { type Connection } from 'mysql2/promise'
import type { StatementKind } from '../../engine.js'

type Done = (error: unknown, rows?: unknown) => void

/** mysql2's callback connection under its promise wrapper (`PromiseConnection.connection`). */
interface CallbackConnection {
  query(sql: string, values: unknown, done: Done): unknown
  execute(sql: string, values: unknown, done: Done): unknown
}

/** mysql2's own methods: a connection whose `query` or `execute` was replaced (a tracing wrapper) keeps it. */
const driverMethods = (
  mysql as unknown as { PromiseConnection: { prototype: Record<StatementKind, unknown> } }
).PromiseConnection.prototype

/**
 * Runs one statement with a deadline of our own. mysql2's `timeout` option leaves its timer
 * running when the connection dies first, which keeps the event loop (and a callback-style
 * invocation) busy until it fires; this timer is unreferenced and always cleared.
 *
 * Through mysql2's callback API, as one promise: its promise API allocates a promise and a
 * `[rows, fields]` pair per statement, and each promise resolved with rows is one more lookup of
 * `rows.then` and one more turn (about 1 µs a statement).
 */
export const runStatement = (
  connection: Connection,
  kind: StatementKind,
  sql: string,
  values: unknown,
  timeoutMs: number,
  hooks?: SettleHooks,
): Promise<unknown> =>
  settleWithin(
    (resolve, reject) => {
      // The callback API would take a function here for its callback, and never answer ours.
      if (typeof values === 'function') {
        throw new TypeError(`${kind}(sql, values): values must be an array or an object, not a function`)
      }
      // A wrapper (tracing) replaced the connection's own method: it must see the statement.
      if (connection[kind] !== driverMethods[kind]) {
        const wrapped =
          kind === 'query' ? connection.query(sql, values as never) : connection.execute(sql, values as never)
        wrapped.then(([rows]) => resolve(rows), reject)
        return
      }
      const driver = (connection as unknown as { connection: CallbackConnection }).connection
      // The positional form: mysql2's options-object form costs about 13 µs more per statement.
      driver[kind](sql, values, (error, rows) => (error ? reject(error) : resolve(rows)))
    },
    timeoutMs,
    () => timedOut(timeoutMs),
    false,
    hooks,
  )

const timedOut = (timeoutMs: number) =>
  Object.assign(new Error(`statement timed out after ${timeoutMs} ms`), { code: 'PROTOCOL_SEQUENCE_TIMEOUT' })
