// The suite's invariants, through the MongoDB stand-in with SCRAM authentication, for each driver.
import { MongoStandIn } from '@middy-downstream/testing'
import { type InvariantFixture, runInvariantSuite } from '@middy-downstream/testing/invariants'
import mongoConnection, {
  createMongoConnection,
  type MongoClientConstructor,
  type MongoConnection,
  type MongoConnectionOptions,
  type MongoHandle,
} from '../src/index.js'
import { drivers, uniqueDb } from './server.js'

const user = 'inv'
const secret = 'inv-Mongo-Secret-5e8a1f'

const mongoFixture = (
  driverName: string,
  MongoClient: MongoClientConstructor,
): InvariantFixture<MongoHandle> => {
  let standIn: MongoStandIn
  let managed: MongoConnection | undefined
  const options = (): MongoConnectionOptions => ({
    url: standIn.url(),
    dbName: uniqueDb(),
    auth: { username: user, password: secret },
    MongoClient,
  })
  const badOptions: InvariantFixture['badOptions'] = [
    [
      'a contextKey that replaces the Lambda clock',
      () => mongoConnection({ url: 'mongodb://h/', contextKey: 'getRemainingTimeInMillis' }),
      'option "contextKey"',
    ],
    [
      'a fractional pool size the driver would round down',
      () => mongoConnection({ url: 'mongodb://h/', clientOptions: { maxPoolSize: 1.5 } }),
      'option "clientOptions.maxPoolSize" must be an integer >= 0',
    ],
    [
      'a numeric password in clientOptions.auth, which the driver accepts',
      () =>
        mongoConnection({
          url: 'mongodb://h/',
          clientOptions: { auth: { username: 'u', password: 918273 as never } },
        }),
      /option "clientOptions.auth" must be an object \{ username, password \} of strings, got object/,
    ],
    [
      'a CA file that is not a path',
      () => mongoConnection({ url: 'mongodb://h/', clientOptions: { tlsCAFile: 5 as never } }),
      'option "clientOptions.tlsCAFile"',
    ],
    [
      'minPoolSize above maxPoolSize',
      () => mongoConnection({ url: 'mongodb://h/', clientOptions: { minPoolSize: 5, maxPoolSize: 2 } }),
      'clientOptions.minPoolSize',
    ],
    ['no url', () => mongoConnection({} as never), 'option "url" is required'],
  ]
  return {
    name: `mongo-connection (stand-in, ${driverName})`,
    contextKey: 'mongo',
    secret,
    setup: async () => {
      standIn = await MongoStandIn.start({ users: { [user]: secret } })
    },
    teardown: () => standIn.stop(),
    create: () => {
      const current = options()
      managed = createMongoConnection(current)
      return { middleware: mongoConnection(current), exported: [managed] }
    },
    dispose: async () => {
      await managed?.dispose()
    },
    use: async (mongo) => mongo.db.command({ ping: 1 }),
    ports: () => [standIn.port],
    serverConnections: async () => standIn.openConnections,
    // Server-side state an invocation can leave: a cursor it did not finish.
    leaveState: async (mongo) => {
      const collection = mongo.db.collection('inv_state')
      await collection.insertMany([{ n: 1 }, { n: 2 }, { n: 3 }])
      const cursor = collection.find({}, { batchSize: 1 })
      await cursor.next()
    },
    stateVisible: async () => standIn.openCursors > 0,
    unitsNotApplicable:
      'the stand-in has no transactions, and a single MongoDB server has none either (they need a replica set)',
    written: async (mongo, marker) => (await mongo.db.collection('inv').countDocuments({ marker })) > 0,
    slowCommand: async (mongo, ms) => mongo.db.command({ sleep: 1, millis: ms }),
    badOptions,
  }
}

for (const [driverName, MongoClient] of drivers) runInvariantSuite(mongoFixture(driverName, MongoClient))
