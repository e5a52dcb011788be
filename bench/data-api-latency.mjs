// Latency per statement: the Data API engine (the real SDK client → the local Data API endpoint
// of @middy-downstream/testing → MariaDB) against a managed mysql2 connection to the same MariaDB,
// same process, same run. Rounds alternate the order; medians of per-statement times, and their
// ratio. The local endpoint answers in microseconds where AWS's service takes milliseconds: this
// is the floor of the HTTP path (signing, JSON both ways, one more hop), not what a Lambda in AWS
// will see. Part of `pnpm bench`; alone, after `pnpm build`:
//   node bench/data-api-latency.mjs [rounds] [statements per round]
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { createDataApiConnection } from '../packages/db-connection/dist/data-api.js'
import { createDbConnection } from '../packages/db-connection/dist/index.js'
import { DataApiStandIn, MariaDbServer } from '../packages/testing/dist/index.js'

// The SDK client is a dependency of db-connection (the optional peer of its /data-api entry).
const fromDbConnection = createRequire(new URL('../packages/db-connection/package.json', import.meta.url))
const { RDSDataClient } = await import(fromDbConnection.resolve('@aws-sdk/client-rds-data'))

const dataApiName = 'Data API (local endpoint)'
const directName = 'managed mysql2 connection'

const statements = {
  'SELECT 1': ['SELECT 1 AS one', 'SELECT 1 AS one'],
  'SELECT of 100 rows': [
    'SELECT * FROM latency_items WHERE id <= :n',
    'SELECT * FROM latency_items WHERE id <= ?',
  ],
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const p99 = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.99)]

/**
 * Measures on `server` (a private MariaDB; a table `test.latency_items` is made there). Returns
 * one row per statement: medians and p99 of each path in ms, and `ratio` (Data API ÷ direct).
 */
export const measureDataApiLatency = async ({ server, rounds = 5, perRound = 300 }) => {
  await server.sql(
    'CREATE TABLE IF NOT EXISTS test.latency_items (id INT PRIMARY KEY, note VARCHAR(40), at DATETIME)',
  )
  await server.sql(
    "INSERT IGNORE INTO test.latency_items SELECT seq, CONCAT('note ', seq), NOW() FROM test.seq_1_to_100",
  )
  const config = { ...server.config, database: 'test' }
  const endpoint = await DataApiStandIn.start({ database: config })
  const client = new RDSDataClient({
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'bench' },
    maxAttempts: 1,
  })
  const dataApi = createDataApiConnection({
    config: {
      resourceArn: 'arn:aws:rds:us-east-1:1:cluster:bench',
      secretArn: 'arn:aws:secretsmanager:us-east-1:1:secret:bench',
      database: 'test',
      client,
    },
  })
  const direct = createDbConnection({ config, release: 'keep' })
  const sessions = { [dataApiName]: dataApi.session(), [directName]: direct.session() }
  try {
    const samples = new Map()
    const timesOf = async (session, sql, values) => {
      const times = []
      for (let i = 0; i < perRound; i++) {
        const started = performance.now()
        await session.query(sql, values)
        times.push(performance.now() - started)
      }
      return times
    }
    for (let round = 0; round < rounds + 1; round++) {
      const order = Object.entries(sessions)
      if (round % 2) order.reverse()
      for (const [label, [dataApiSql, mysqlSql]] of Object.entries(statements)) {
        for (const [name, session] of order) {
          const isDataApi = name === dataApiName
          const times = await timesOf(
            session,
            isDataApi ? dataApiSql : mysqlSql,
            isDataApi ? { n: 100 } : [100],
          )
          // Round 0 warms up both paths (JIT, the SDK's first signing, the pools) and is not counted.
          if (round > 0)
            samples.set(`${label}|${name}`, [...(samples.get(`${label}|${name}`) ?? []), ...times])
        }
      }
    }
    return Object.keys(statements).map((statement) => {
      const viaApi = samples.get(`${statement}|${dataApiName}`)
      const viaDirect = samples.get(`${statement}|${directName}`)
      return {
        statement,
        statements: viaApi.length,
        dataApiMedianMs: median(viaApi),
        dataApiP99Ms: p99(viaApi),
        directMedianMs: median(viaDirect),
        directP99Ms: p99(viaDirect),
        ratio: median(viaApi) / median(viaDirect),
      }
    })
  } finally {
    await Promise.all(Object.values(sessions).map((s) => s.release()))
    await dataApi.dispose()
    await direct.dispose()
    client.destroy()
    await endpoint.dispose()
  }
}

/** The rows as lines of text. */
export const formatDataApiLatency = (rows) =>
  rows
    .map(
      (r) =>
        `${r.statement.padEnd(19)} Data API median ${r.dataApiMedianMs.toFixed(3)} ms (p99 ${r.dataApiP99Ms.toFixed(3)}), ` +
        `direct ${r.directMedianMs.toFixed(3)} ms (p99 ${r.directP99Ms.toFixed(3)}): ${r.ratio.toFixed(1)}×`,
    )
    .join('\n')

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await MariaDbServer.start()
  try {
    const rows = await measureDataApiLatency({
      server,
      rounds: Number(process.argv[2] ?? 5),
      perRound: Number(process.argv[3] ?? 300),
    })
    console.log(formatDataApiLatency(rows))
  } finally {
    await server.dispose()
  }
}
