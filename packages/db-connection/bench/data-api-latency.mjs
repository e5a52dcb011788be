// Latency per statement: the Data API engine (real SDK client → the local Data API endpoint →
// MariaDB) against a managed mysql2 connection to the same MariaDB, same process, same run.
// Rounds alternate the order; medians of per-statement times are reported, with the ratio.
// The local endpoint answers in microseconds where AWS's service takes milliseconds: this is the
// floor of the HTTP path (signing, JSON, one more hop), not what a Lambda in AWS will see.
// Run after `pnpm build`, from the repository root:
//   node packages/db-connection/bench/data-api-latency.mjs [rounds] [statements per round]
import { RDSDataClient } from '@aws-sdk/client-rds-data'
import { createDbConnection } from '@middy-downstream/db-connection'
import { createDataApiConnection } from '@middy-downstream/db-connection/data-api'
import { DataApiStandIn, MariaDbServer } from '@middy-downstream/testing'

const rounds = Number(process.argv[2] ?? 5)
const perRound = Number(process.argv[3] ?? 300)

const server = await MariaDbServer.start()
await server.sql('CREATE TABLE test.items (id INT PRIMARY KEY, note VARCHAR(40), at DATETIME)')
await server.sql("INSERT INTO test.items SELECT seq, CONCAT('note ', seq), NOW() FROM test.seq_1_to_100")
const endpoint = await DataApiStandIn.start({ database: server.config })
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
const direct = createDbConnection({ config: { ...server.config, database: 'test' }, release: 'keep' })
const sessions = {
  'Data API (local endpoint)': dataApi.session(),
  'managed mysql2 connection': direct.session(),
}

const statements = {
  'SELECT 1': ['SELECT 1 AS one', 'SELECT 1 AS one'],
  '100 rows': ['SELECT * FROM items WHERE id <= :n', 'SELECT * FROM items WHERE id <= ?'],
}
const timesOf = async (session, sql, values) => {
  const times = []
  for (let i = 0; i < perRound; i++) {
    const started = performance.now()
    await session.query(sql, values)
    times.push(performance.now() - started)
  }
  return times
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const p99 = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.99)]

const samples = new Map()
for (let round = 0; round < rounds + 1; round++) {
  const order = Object.entries(sessions)
  if (round % 2) order.reverse()
  for (const [label, [dataApiSql, mysqlSql]] of Object.entries(statements)) {
    for (const [name, session] of order) {
      const isDataApi = name.startsWith('Data API')
      const times = await timesOf(session, isDataApi ? dataApiSql : mysqlSql, isDataApi ? { n: 100 } : [100])
      // Round 0 warms up both paths (JIT, the SDK's first signing, the pools) and is not counted.
      if (round > 0) samples.set(`${label}|${name}`, [...(samples.get(`${label}|${name}`) ?? []), ...times])
    }
  }
}

console.log(
  `Node.js ${process.version}, ${rounds} rounds × ${perRound} statements, after one warm-up round\n`,
)
for (const label of Object.keys(statements)) {
  const base = median(samples.get(`${label}|managed mysql2 connection`))
  for (const name of Object.keys(sessions)) {
    const values = samples.get(`${label}|${name}`)
    const ratio = median(values) / base
    console.log(
      `${label.padEnd(9)} ${name.padEnd(27)} median ${median(values).toFixed(3).padStart(7)} ms  p99 ${p99(values).toFixed(3).padStart(7)} ms  ${ratio.toFixed(1)}x direct`,
    )
  }
}

await Promise.all(Object.values(sessions).map((s) => s.release()))
await dataApi.dispose()
await direct.dispose()
client.destroy()
await endpoint.dispose()
await server.dispose()
