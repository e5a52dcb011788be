import dbConnection, {
  createDataApiConnection,
  type DataApiConnectionOptions,
  type DataApiSession,
  type ManagedDataApiConnection,
} from '@middy-downstream/db-connection/data-api'
import { DataApiStandIn, MariaDbServer } from '@middy-downstream/testing'
import { type InvariantFixture, runInvariantSuite } from '@middy-downstream/testing/invariants'
import { resourceArn, secretArn, standInClient } from './support.js'

// The client's AWS secret key: what must never show in anything a user logs.
const secret = 'inv-DataApi-Secret-7c1d'
let server: MariaDbServer
let endpoint: DataApiStandIn
let managed: ManagedDataApiConnection | undefined

const options = (): DataApiConnectionOptions => ({
  config: { resourceArn, secretArn, database: 'test', client: standInClient(endpoint, secret) },
})

const fixture: InvariantFixture<DataApiSession> = {
  name: 'db-connection/data-api (local Data API endpoint over MariaDB)',
  contextKey: 'db',
  secret,
  setup: async () => {
    server = await MariaDbServer.start()
    await server.sql('CREATE TABLE test.inv (marker VARCHAR(64))')
    endpoint = await DataApiStandIn.start({ database: server.config })
  },
  teardown: async () => {
    await endpoint.dispose()
    await server.dispose()
  },
  create: () => {
    const current = options()
    managed = createDataApiConnection(current)
    return { middleware: dbConnection(current), exported: [managed] }
  },
  dispose: async () => {
    await managed?.dispose()
  },
  use: (db) => db.query('SELECT 1 AS one'),
  ports: () => [endpoint.port],
  // No database connection is held: what the endpoint sees are HTTP keep-alive connections.
  serverConnections: () => endpoint.connections(),
  stateNotApplicable:
    "the Data API holds no session: outside a transaction each statement may run on any of the service's connections (here, the stand-in's pool), and no client can reset those; the README says to keep SET inside a transaction",
  leaveState: async (db) => {
    await db.query('SET @inv_x = 42')
  },
  stateVisible: async (db) => {
    const [row] = await db.query<{ x: number | null }>('SELECT @inv_x AS x')
    return row!.x !== null
  },
  throwMidUnit: (db, marker) =>
    db.transaction(async (tx) => {
      await tx.query('INSERT INTO test.inv VALUES (:marker)', { marker })
      throw new Error('mid-transaction')
    }),
  raceUnitAndPlain: (db, marker, plain) =>
    Promise.allSettled([
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO test.inv VALUES (:marker)', { marker })
        throw new Error('mid-transaction')
      }),
      db.query('INSERT INTO test.inv VALUES (:plain)', { plain }),
    ]),
  written: async (db, marker) => {
    const [row] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM test.inv WHERE marker = :marker', {
      marker,
    })
    return Number(row!.n) > 0
  },
  slowCommand: (db, ms) => db.query('SELECT SLEEP(:s)', { s: ms / 1000 }),
  badOptions: [
    [
      'a config naming no cluster',
      () => dbConnection({ config: { secretArn } as never }),
      'config.resourceArn',
    ],
    [
      'a connection option (there is no connection)',
      () => dbConnection({ config: { resourceArn, secretArn }, release: 'close' } as never),
      'option "release" applies to connections',
    ],
    [
      'a client that is not an RDSDataClient',
      () => dbConnection({ config: { resourceArn, secretArn, client: {} as never } }),
      'option "config.client"',
    ],
    [
      'a contextKey that replaces the Lambda clock',
      () => dbConnection({ config: { resourceArn, secretArn }, contextKey: 'getRemainingTimeInMillis' }),
      'option "contextKey"',
    ],
  ],
}

runInvariantSuite(fixture)
