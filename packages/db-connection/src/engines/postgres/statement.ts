import { withTimeout } from '@middy-downstream/core'
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
 * rows (SELECT, … RETURNING), `{ command, rowCount }` otherwise.
 */
export const runStatement = async (
  client: Client,
  kind: StatementKind,
  sql: string,
  values: unknown,
  timeoutMs: number,
): Promise<unknown> => {
  const params = values as unknown[] | undefined
  const pending: Promise<QueryResult> =
    kind === 'execute'
      ? client.query({ name: preparedName(sql), text: sql, values: params })
      : client.query(sql, params)
  const result = await withTimeout(pending, timeoutMs, () =>
    Object.assign(new Error(`statement timed out after ${timeoutMs} ms`), { code: statementTimeoutCode }),
  )
  if (Array.isArray(result)) return result.map(shape)
  return shape(result)
}

const shape = (result: QueryResult): unknown =>
  result.fields.length > 0
    ? result.rows
    : ({ command: result.command, rowCount: result.rowCount ?? 0 } satisfies PgWriteResult)
