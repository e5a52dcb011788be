// Server round trips a connection manager adds per warm invocation: the server's Questions
// counter (statements, COM_QUIT included) over N invocations of one query each, minus the N
// queries the handler runs itself. The admin connection that reads the counter is left out (its
// own statements are subtracted in the same read).
import { createRequire } from 'node:module'
import { setTimeout as sleep } from 'node:timers/promises'
import middy from '@middy/core'
import mysql from 'mysql2/promise'
import { readCounters } from '../examples/storm/storm.mjs'
import dbConnection from '../packages/db-connection/dist/index.js'

const require = createRequire(import.meta.url)

const context = () => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'bench',
  awsRequestId: 'bench',
  getRemainingTimeInMillis: () => 3000,
})

/**
 * Invocations of one environment are never back to back: each goes through Lambda's frontend and
 * the runtime API. A gap of `gapMs` between them keeps caches keyed on the millisecond (such as
 * serverless-mysql's `usedConnsFreq: 0`) from sharing one read between invocations.
 */
const measure = async (server, invoke, invocations, gapMs) => {
  const before = await readCounters(server)
  const started = performance.now()
  for (let i = 0; i < invocations; i++) {
    await invoke()
    await sleep(gapMs)
  }
  const elapsedMs = performance.now() - started
  const after = await readCounters(server)
  const questions = after.questions - before.questions
  return {
    invocations,
    questions,
    extraPerInvocation: (questions - invocations) / invocations,
    connects: after.connects - before.connects,
    elapsedMs,
  }
}

/**
 * db-connection, serverless-mysql (query then `end()`, as its README says) and a raw mysql2
 * connection (the method's zero), each on its own database of one quiet private server.
 */
export const measureRoundTrips = async ({ server, invocations = 1000, gapMs = 2 }) => {
  const config = {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: server.database,
  }
  const results = {}

  const raw = await mysql.createConnection(config)
  results['raw mysql2 (no management)'] = await measure(
    server,
    async () => {
      await raw.query('SELECT 1 AS one')
    },
    invocations,
    gapMs,
  )
  raw.destroy()

  // Its own fleet name: a new managed connection (a new environment), not one another part of
  // the bench has already warmed and sampled.
  const managed = middy()
    .use(dbConnection({ config, fleet: 'round-trips' }))
    .handler(async (_event, ctx) => ctx.db.query('SELECT 1 AS one'))
  results['db-connection (defaults)'] = await measure(
    server,
    () => managed({}, context()),
    invocations,
    gapMs,
  )

  const sls = require('serverless-mysql')({ config })
  results['serverless-mysql (query, end())'] = await measure(
    server,
    async () => {
      await sls.query('SELECT 1 AS one')
      await sls.end()
    },
    invocations,
    gapMs,
  )
  sls.quit()
  return results
}
