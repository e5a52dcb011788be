import dns from 'node:dns'
import { describe, expect, jest, test } from '@jest/globals'
import { ConnectionLostError, Deadline, DeadlineError, OperationError, redact } from '@middy-downstream/core'
import {
  MongoNetworkTimeoutError,
  MongoParseError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb'
import mongoConnection, {
  classifyMongoError,
  createMongoConnection,
  lambdaClientDefaults,
  wrapMongoError,
} from '../src/index.js'
import { drivers } from './server.js'

const url = 'mongodb://127.0.0.1:27017/?directConnection=true'

describe('options are checked at construction', () => {
  test.each([
    [{ url, dbname: 'app' }, 'unknown option "dbname" (did you mean "dbName"?)'],
    [{}, 'option "url" is required'],
    [
      { url: 'http://u:Hidden-Pa55@host/' },
      'option "url" must be a mongodb:// or mongodb+srv:// connection string, got a string of length 26',
    ],
    [{ url, release: 'sometimes' }, 'option "release" must be one of "keep", "close"'],
    [
      { url, auth: { username: 'u' } },
      'option "auth" must be an object { username, password } of strings, or a function',
    ],
    [{ url, validateTimeoutMs: 0 }, 'option "validateTimeoutMs" must be a number >= 1, got number 0'],
    [
      { url: 'mongodb://u:Hidden-Pa55@h/', auth: { username: 'u', password: 'p' } },
      'give them in one place only',
    ],
    [
      { url, clientOptions: { maxPoolSiz: 1 } },
      'the driver rejected option "url" or "clientOptions": option maxpoolsiz is not supported',
    ],
  ])('%j', (options, message) => {
    expect(() => mongoConnection(options as never)).toThrow(TypeError)
    expect(() => mongoConnection(options as never)).toThrow(message)
  })

  test('a password in a url the driver rejects is not in the message', () => {
    const attempt = () => createMongoConnection({ url: 'mongodb://u:Hidden-Pa55@h/?notAnOption=1' })
    expect(attempt).toThrow(TypeError)
    expect(attempt).not.toThrow('Hidden-Pa55')
  })
})

describe('the Lambda defaults', () => {
  test('apply unless the url or clientOptions set them', async () => {
    const plain = await createMongoConnection({ url, dbName: 'defaults-a' }).connect()
    expect(plain.client.options).toMatchObject(lambdaClientDefaults)
    const overridden = createMongoConnection({
      url: `${url}&maxPoolSize=9&serverMonitoringMode=auto`,
      dbName: 'defaults-b',
      clientOptions: { serverSelectionTimeoutMS: 2_000 },
    })
    const lease = await overridden.connect()
    expect(lease.client.options).toMatchObject({
      maxPoolSize: 9,
      serverMonitoringMode: 'auto',
      serverSelectionTimeoutMS: 2_000,
      connectTimeoutMS: lambdaClientDefaults.connectTimeoutMS,
    })
    await overridden.dispose()
    await createMongoConnection({ url, dbName: 'defaults-a' }).dispose()
  })

  test('the Lambda function name becomes the appName the server sees', async () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'orders-api'
    try {
      const connection = createMongoConnection({ url, dbName: 'app-name' })
      expect((await connection.connect()).client.options.appName).toBe('orders-api')
      await connection.dispose()
    } finally {
      delete process.env.AWS_LAMBDA_FUNCTION_NAME
    }
  })
})

describe.each(drivers)('%s: mongodb+srv urls', (_name, MongoClient) => {
  test('are accepted: the client is built without any DNS query, which waits for the first operation', async () => {
    const queries = [
      jest.spyOn(dns.promises, 'resolveSrv'),
      jest.spyOn(dns.promises, 'resolveTxt'),
      jest.spyOn(dns, 'lookup'),
    ]
    const connection = createMongoConnection({
      url: 'mongodb+srv://app:Srv-Secret-77@cluster0.example.invalid/orders?retryWrites=true&w=majority',
      MongoClient,
    })
    const lease = await connection.connect()
    expect(lease.client.options).toMatchObject({
      srvHost: 'cluster0.example.invalid',
      tls: true,
      maxPoolSize: 2,
    })
    expect(lease.db.databaseName).toBe('orders')
    await lease.release()
    await connection.dispose()
    for (const query of queries) {
      expect(query).not.toHaveBeenCalled()
      query.mockRestore()
    }
    // The password is remembered for redaction from then on.
    expect(redact('failed with Srv-Secret-77')).toBe('failed with ***')
  })
})

describe('the config fingerprint', () => {
  test('keeps secrets out and separates what must not share a client', () => {
    const key = (options: Parameters<typeof createMongoConnection>[0]) => createMongoConnection(options).key
    const a = key({ url: 'mongodb://u:First-Pa55@h/', dbName: 'app' })
    expect(key({ url: 'mongodb://u:Second-Pa55@h/', dbName: 'app' })).toBe(a)
    expect(key({ url: 'mongodb://u:First-Pa55@h/', dbName: 'other' })).not.toBe(a)
    expect(key({ url: 'mongodb://u:First-Pa55@h/', dbName: 'app', MongoClient: drivers[1]![1] })).not.toBe(a)
    expect(key({ url: 'mongodb://h/', dbName: 'app', auth: { username: 'u', password: 'Third-Pa55' } })).toBe(
      key({ url: 'mongodb://h/', dbName: 'app', auth: { username: 'u', password: 'Fourth-Pa55' } }),
    )
    expect(a).toMatch(/^mongo:[0-9a-f]{16}$/)
  })
})

describe('driver errors', () => {
  const description = { type: 'Unknown', servers: new Map() } as never
  test.each([
    [
      'code 18',
      'authentication',
      new MongoServerError({
        ok: 0,
        code: 18,
        codeName: 'AuthenticationFailed',
        errmsg: 'Authentication failed.',
      }),
    ],
    [
      'MongoServerSelectionError',
      'selection',
      new MongoServerSelectionError('Server selection timed out', description),
    ],
    [
      'MongoNetworkTimeoutError',
      'network',
      new MongoNetworkTimeoutError('connection 3 to 10.0.0.1:27017 timed out'),
    ],
    [
      'ECONNREFUSED',
      'network',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    ],
    ['MongoTopologyClosedError', 'closed', new MongoTopologyClosedError()],
    ['MongoParseError', 'configuration', new MongoParseError('option foo is not supported')],
    ['duplicate key', 'other', new MongoServerError({ ok: 0, code: 11000, errmsg: 'E11000 duplicate key' })],
    ['a string', 'other', 'not an error'],
  ])('%s is %s', (_label, failure, error) => {
    expect(classifyMongoError(error)).toBe(failure)
  })

  test('connection failures become typed errors with the driver error as cause; the rest stay as they are', () => {
    const lost = new MongoNetworkTimeoutError('connection 3 to 10.0.0.1:27017 timed out')
    const wrapped = wrapMongoError(lost, { deadline: Deadline.none(), marginMs: 500 })
    expect(wrapped).toBeInstanceOf(ConnectionLostError)
    expect(wrapped).toMatchObject({ package: '@middy-downstream/mongo-connection', cause: lost })

    const cut = wrapMongoError(new MongoTopologyClosedError(), {
      deadline: Deadline.none(),
      closedBecause: 'deadline',
      marginMs: 500,
    })
    expect(cut).toBeInstanceOf(DeadlineError)
    expect((cut as Error).message).toContain("500 ms before the invocation's timeout")

    const duplicate = new MongoServerError({ ok: 0, code: 11000, errmsg: 'E11000 duplicate key' })
    expect(wrapMongoError(duplicate, { deadline: Deadline.none(), marginMs: 500 })).toBe(duplicate)
    const typed = new OperationError('already typed', { package: 'x' })
    expect(wrapMongoError(typed, { deadline: Deadline.none(), marginMs: 500 })).toBe(typed)
  })
})
