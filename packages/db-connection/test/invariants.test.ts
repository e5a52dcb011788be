import { MariaDbServer } from '@middy-downstream/testing'
import { type InvariantFixture, runInvariantSuite } from '@middy-downstream/testing/invariants'
import dbConnection, {
  createDbConnection,
  type DbConnectionOptions,
  type DbSession,
  type ManagedDbConnection,
} from '../src/index.js'
import { sqlBadOptions, sqlUnitMoves } from './sql-unit-moves.js'
import { createAppUser, threadsOf } from './support.js'

const secret = 'inv-Secret-9f3b2c'
let server: MariaDbServer
let fleet = 0
let managed: ManagedDbConnection | undefined

const options = (): DbConnectionOptions => ({
  config: { ...server.config, user: 'inv', password: secret, database: 'test' },
  fleet: `invariants-${++fleet}`,
})

const fixture: InvariantFixture<DbSession> = {
  name: 'db-connection (MariaDB, mysql2)',
  contextKey: 'db',
  secret,
  setup: async () => {
    server = await MariaDbServer.start()
    await createAppUser(server, 'inv', secret)
    await server.sql('CREATE TABLE test.inv (marker VARCHAR(64))')
  },
  teardown: () => server.dispose(),
  create: () => {
    const current = options()
    managed = createDbConnection(current)
    return { middleware: dbConnection(current), exported: [managed] }
  },
  dispose: async () => {
    await managed?.dispose()
  },
  use: (db) => db.query('SELECT 1 AS one'),
  ports: () => [server.port],
  serverConnections: async () => (await threadsOf(server, 'inv')).length,
  leaveState: async (db) => {
    await db.query('SET @inv_x = 42')
    await db.query("SELECT GET_LOCK('inv_lock', 0)")
  },
  stateVisible: async (db) => {
    const [row] = await db.query<{ x: number | null; mine: number | null }>(
      "SELECT @inv_x AS x, IS_USED_LOCK('inv_lock') IS NOT NULL AS mine",
    )
    return row!.x !== null || row!.mine === 1
  },
  ...sqlUnitMoves('INSERT INTO test.inv VALUES (?)'),
  written: async (db, marker) => {
    const [row] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM test.inv WHERE marker = ?', [
      marker,
    ])
    return Number(row!.n) > 0
  },
  slowCommand: (db, ms) => db.query('SELECT SLEEP(?)', [ms / 1000]),
  badOptions: [
    ...sqlBadOptions((options) => dbConnection(options as never)),
    [
      'a nested unknown retry field',
      () => dbConnection({ config: { host: 'x' }, retry: { base: 1 } as never }),
      'option "retry"',
    ],
  ],
}

runInvariantSuite(fixture)
