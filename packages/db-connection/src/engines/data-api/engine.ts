import {
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  RollbackTransactionCommand,
} from '@aws-sdk/client-rds-data'
import { type RetryOptions, withHooks } from '@middy-downstream/core'
import type { SqlEngine } from '../../engine.js'
import { statementFailure } from './classify.js'
import { type DataApiConfig, type DataApiTarget, dataApiAdapter, storable } from './client.js'
import { parametersOf } from './parameters.js'
import { type DataApiWriteResult, shapeResult } from './results.js'
import { packageName, send } from './send.js'

/** How long a paused cluster is waited for: decorrelated jitter from 100 ms up to 2 s, inside the deadline. */
export const resumeRetry: RetryOptions = {
  strategy: 'decorrelated',
  baseMs: 100,
  capMs: 2_000,
  maxAttempts: 100,
}

const arns = (t: DataApiTarget) => ({ resourceArn: t.resourceArn, secretArn: t.secretArn })

/** The input without its unset fields: what is sent is exactly what was asked for. */
const defined = <T extends object>(input: T): T =>
  Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as T

const execute = (
  target: DataApiTarget,
  sql: string,
  values: unknown,
  timeoutMs: number,
  tx: string | undefined,
  retry: RetryOptions,
) => {
  const input = defined({
    ...arns(target),
    database: target.database,
    schema: target.schema,
    sql,
    parameters: parametersOf(packageName, values),
    includeResultMetadata: true,
    transactionId: tx,
  })
  return send(
    target,
    (t, abortSignal) => t.client.send(new ExecuteStatementCommand(input), { abortSignal }),
    sql,
    timeoutMs,
    tx === undefined ? retry : false,
  )
}

/** Commit or rollback: sent once (a lost COMMIT may have committed; the session says so). */
const endTransaction = async (
  target: DataApiTarget,
  transactionId: string,
  timeoutMs: number,
  Command: typeof CommitTransactionCommand | typeof RollbackTransactionCommand,
  label: string,
): Promise<void> => {
  const input = { ...arns(target), transactionId }
  await send(
    target,
    (t, abortSignal) => t.client.send(new Command(input), { abortSignal }),
    label,
    timeoutMs,
    false,
  )
}

const field = { type: 'string', nonEmpty: true } as const

export type DataApiEngine = SqlEngine<DataApiTarget, DataApiConfig, DataApiWriteResult, never, string>

/**
 * Aurora (MySQL or PostgreSQL) through the Data API: statements over HTTPS, no connection held.
 * One client serves every invocation of the environment (`shared`); there is nothing to count,
 * reap or reset, so the `auto` release policy keeps it. `retry` (the `retry` option) shapes how
 * refusals that mean "nothing ran" are waited out.
 */
export const dataApiEngineWith = (retry: RetryOptions = {}): DataApiEngine => {
  const backoff = { ...resumeRetry, ...retry }
  return {
    packageName,
    sharing: 'shared',
    configRule: {
      type: 'shape',
      description: 'an object of Data API settings',
      fix: 'pass { config: { resourceArn, secretArn, database } }',
      fields: {
        resourceArn: {
          ...field,
          fix: 'pass the Aurora cluster ARN, e.g. resourceArn: process.env.CLUSTER_ARN',
        },
        secretArn: {
          ...field,
          fix: 'pass the Secrets Manager secret ARN, e.g. secretArn: process.env.SECRET_ARN',
        },
        database: field,
        schema: field,
        client: {
          type: 'custom',
          expected: 'an RDSDataClient (an object with a send method)',
          check: (v) => typeof (v as { send?: unknown })?.send === 'function',
        },
      },
    },
    checkConfig: (config) => {
      for (const name of ['resourceArn', 'secretArn'] as const) {
        if (!config[name]) {
          throw new TypeError(
            `${packageName}: option "config.${name}" is required; pass { config: { resourceArn, secretArn, database } }`,
          )
        }
      }
    },
    passwordOf: () => undefined,
    withoutPassword: storable,
    userOf: () => undefined,
    databaseOf: (config) => config.database,
    adapter: ({ config }) => dataApiAdapter(config),
    // `execute` is `query`: the Data API has no client-side prepared statements.
    run: (target, _kind, sql, values, timeoutMs, tx, hooks) => {
      // A bad parameter throws here: it fails like the statement, through the session's handling.
      let sent: Promise<unknown>
      try {
        sent = execute(target, sql, values, timeoutMs, tx, backoff).then(shapeResult)
      } catch (error) {
        sent = Promise.reject(error)
      }
      return withHooks(sent, hooks)
    },
    failure: statementFailure,
    // Outside a transaction each call may run on another server connection: nothing persists.
    changesSession: () => false,
    transaction: {
      begin: async (target, timeoutMs) => {
        const input = defined({ ...arns(target), database: target.database, schema: target.schema })
        const out = await send(
          target,
          (t, abortSignal) => t.client.send(new BeginTransactionCommand(input), { abortSignal }),
          'BEGIN',
          timeoutMs,
          backoff,
        )
        return out.transactionId as string
      },
      commit: (target, transactionId, timeoutMs) =>
        endTransaction(target, transactionId, timeoutMs, CommitTransactionCommand, 'COMMIT'),
      rollback: async (target, transactionId, timeoutMs) => {
        if (transactionId === undefined) return
        await endTransaction(target, transactionId, timeoutMs, RollbackTransactionCommand, 'ROLLBACK')
      },
    },
  }
}

/** The engine with the default backoff. */
export const dataApiEngine: DataApiEngine = dataApiEngineWith()
