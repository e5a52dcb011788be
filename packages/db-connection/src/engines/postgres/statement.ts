import { type SettleHooks, settleWithin } from '@middy-downstream/core'
import type { Client, QueryResult } from 'pg'
import type { StatementKind } from '../../engine.js'
import { statementTimeoutCode } from './classify.js'

// node:crypto as its CommonJS object: its ESM namespace reads every export, webcrypto included.
const { createHash } = process.getBuiltinModule('node:crypto')

/** What a statement that returns no rows gives: `{ command: 'UPDATE', rowCount: 3 }`. */
export interface PgWriteResult {
  command: string
  rowCount: number
}

/** A stable name per statement text: pg prepares a named statement once per connection. */
const preparedName = (sql: string): string =>
  `mdd_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`

/**
 * Runs one statement with a deadline of our own (unreferenced, always cleared). `execute` runs
 * it as a named prepared statement, parsed once per connection. Rows when the statement returns
 * rows (SELECT, … RETURNING), `{ command, rowCount }` otherwise. Through pg's callback form, as
 * one promise: its promise form costs one more promise, resolution and turn per statement.
 */
export const runStatement = (
  client: Client,
  kind: StatementKind,
  sql: string,
  values: unknown,
  timeoutMs: number,
  hooks?: SettleHooks,
): Promise<unknown> => {
  const params = values as unknown[] | undefined
  return settleWithin<unknown>(
    (resolve, reject) => {
      const done = (error: Error | undefined, result: QueryResult | QueryResult[]) => {
        if (error) reject(error)
        else resolve(Array.isArray(result) ? result.map(shape) : shape(result))
      }
      if (kind === 'execute') client.query({ name: preparedName(sql), text: sql, values: params }, done)
      else if (params === undefined) client.query(sql, done)
      else client.query(sql, params, done)
    },
    timeoutMs,
    () =>
      Object.assign(new Error(`statement timed out after ${timeoutMs} ms`), { code: statementTimeoutCode }),
    false,
    hooks,
  )
}

const shape = (result: QueryResult): unknown =>
  result.fields.length > 0
    ? result.rows
    : ({ command: result.command, rowCount: result.rowCount ?? 0 } satisfies PgWriteResult)
