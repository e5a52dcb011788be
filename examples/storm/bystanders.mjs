// Bystanders of the storm, on the same database user and database as the handlers:
// - an application outside Lambda holding a few pooled connections, idle between its own queries;
// - another function (reports.mjs, timeout 60 s) in lambda-sim environments, whose invocations
//   hold a transaction open across a pause.
// A reaper that cannot tell them from zombies kills them; each counts what it suffered, and the
// statements it sent (so the storm's statements per invocation leave them out).
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { LambdaEnvironment } from '@middy-downstream/lambda-sim'
import { dbConfigFrom } from './db-config.mjs'
import { openClient } from './sql-client.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The application outside Lambda: `size` connections, each running one query every `everyMs`
 * (idle in between). A connection the server killed is counted and replaced, as a pool would.
 */
const otherApplication = ({ engine, config, size, everyMs }) => {
  const report = { connectionsKilled: 0, statements: 0 }
  let stopped = false
  const open = () => openClient(engine, config)
  const loop = async (offsetMs) => {
    await sleep(offsetMs)
    let connection
    while (!stopped) {
      try {
        connection ??= await open()
        report.statements += 1
        await connection.query('SELECT COUNT(*) FROM ledger')
      } catch {
        // A refused connect (the server full) is not a kill; a query on a killed connection is.
        if (connection) {
          report.connectionsKilled += 1
          connection.destroy()
          connection = undefined
        }
      }
      await sleep(everyMs)
    }
    if (connection) {
      if (connection.quitCounts) report.statements += 1 // COM_QUIT
      await connection.close().catch(() => connection.destroy())
    }
  }
  const loops = Array.from({ length: size }, (_, i) => loop((i * everyMs) / size))
  return {
    stop: async () => {
      stopped = true
      await Promise.all(loops)
      return report
    },
  }
}

/** The other function: `concurrency` environments, each invoking again as soon as it returns. */
const otherFunction = async ({ env, concurrency, pauseMs }) => {
  const environments = await Promise.all(
    Array.from({ length: concurrency }, () =>
      LambdaEnvironment.start({
        module: path.join(here, 'reports.mjs'),
        timeoutMs: 60_000,
        functionName: 'reports',
        env: { ...env, AWS_LAMBDA_FUNCTION_NAME: 'reports' },
        output: 'ignore',
      }),
    ),
  )
  let stopped = false
  const loops = environments.map(async (environment, i) => {
    await sleep((i * pauseMs) / concurrency)
    while (!stopped) await environment.invoke({ pauseMs })
  })
  return {
    stop: async () => {
      stopped = true
      await Promise.all(loops)
      const totals = await Promise.all(environments.map((e) => e.call('stats')))
      await Promise.all(environments.map((e) => e.close()))
      return {
        transactionsCommitted: totals.reduce((sum, t) => sum + t.committed, 0),
        transactionsBroken: totals.reduce((sum, t) => sum + t.broken, 0),
        statements: totals.reduce((sum, t) => sum + t.statements, 0),
      }
    },
  }
}

/**
 * Starts both bystanders against `database` (`startStormDatabase`'s; `env`: the handlers' DB_*
 * variables); `stop()` ends them and returns what they suffered.
 */
export const startBystanders = async ({ database, env, application = 3, functions = 2, pauseMs = 4000 }) => {
  await database.sql(database.ledgerSql)
  const config = dbConfigFrom(env)
  const app = otherApplication({ engine: env.DB_ENGINE, config, size: application, everyMs: pauseMs })
  const fn = await otherFunction({ env, concurrency: functions, pauseMs })
  return {
    stop: async () => {
      const [a, f] = await Promise.all([app.stop(), fn.stop()])
      return {
        connectionsKilled: a.connectionsKilled,
        transactionsBroken: f.transactionsBroken,
        transactionsCommitted: f.transactionsCommitted,
        statements: a.statements + f.statements,
      }
    },
  }
}
