import dbConnection, {
  createPgConnection,
  type ManagedPgConnection,
  type PgConnectionOptions,
  type PgSession,
} from '@middy-downstream/db-connection/postgres'
import { PostgresServer } from '@middy-downstream/testing'
import { type InvariantFixture, runInvariantSuite } from '@middy-downstream/testing/invariants'
import { sqlBadOptions, sqlUnitMoves } from '../sql-unit-moves.js'

const secret = 'pg-Inv-Secret-77aa'
let server: PostgresServer
let fleet = 0
let managed: ManagedPgConnection | undefined

const options = (): PgConnectionOptions => ({
  config: { ...server.config, user: 'inv', password: secret },
  fleet: `pg-invariants-${++fleet}`,
})

const countOf = async (marker: string) =>
  Number(await server.psql(`SELECT count(*) FROM inv WHERE marker = '${marker}'`))

const fixture: InvariantFixture<PgSession> = {
  name: 'db-connection/postgres (PostgreSQL, pg)',
  contextKey: 'db',
  secret,
  setup: async () => {
    server = await PostgresServer.start({ auth: 'scram-sha-256' })
    await server.createRole('inv', secret)
    await server.psql('CREATE TABLE inv (marker text); GRANT ALL ON inv TO inv')
  },
  teardown: () => server.dispose(),
  create: () => {
    const current = options()
    managed = createPgConnection(current)
    return { middleware: dbConnection(current), exported: [managed] }
  },
  dispose: async () => {
    await managed?.dispose()
  },
  use: (db) => db.query('SELECT 1 AS one'),
  ports: () => [server.port],
  serverConnections: async () =>
    Number(await server.psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'inv'")),
  leaveState: async (db) => {
    await db.query("SET statement_timeout = '12345ms'")
    await db.query('SELECT pg_advisory_lock(4242)')
  },
  stateVisible: async (db) => {
    const [row] = await db.query<{ timeout: string; locks: number }>(
      "SELECT current_setting('statement_timeout') AS timeout, (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())::int AS locks",
    )
    return row!.timeout === '12345ms' || row!.locks > 0
  },
  ...sqlUnitMoves('INSERT INTO inv VALUES ($1)'),
  written: async (_db, marker) => (await countOf(marker)) > 0,
  slowCommand: (db, ms) => db.query('SELECT pg_sleep($1)', [ms / 1000]),
  badOptions: [...sqlBadOptions((options) => dbConnection(options as never))],
}

runInvariantSuite(fixture)
