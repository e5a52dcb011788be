import {
  BadRequestException,
  BeginTransactionCommand,
  CommitTransactionCommand,
  DatabaseResumingException,
  ExecuteStatementCommand,
  ForbiddenException,
  InternalServerErrorException,
  RDSDataClient,
  RollbackTransactionCommand,
  ServiceUnavailableError,
} from '@aws-sdk/client-rds-data'
import { afterEach, describe, expect, test } from '@jest/globals'
import {
  AuthenticationError,
  ConnectionLostError,
  createDataApiConnection,
  type DataApiConnectionOptions,
  type DataApiWriteResult,
  DeadlineError,
  type ManagedDataApiConnection,
  OperationError,
  TransactionError,
} from '@middy-downstream/db-connection/data-api'
import { KeepaliveRequestHandler } from '@middy-downstream/keepalive-agent'
import { fakeContext } from '@middy-downstream/testing'
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock'
import 'aws-sdk-client-mock-jest'

const resourceArn = 'arn:aws:rds:eu-west-1:123456789012:cluster:shop'
const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop-app-AbCdEf'
const created: ManagedDataApiConnection[] = []
afterEach(async () => {
  await Promise.all(created.splice(0).map((m) => m.dispose()))
})

const meta = { $metadata: {} }
const resuming = () =>
  new DatabaseResumingException({ message: 'The Aurora DB instance is resuming', ...meta })

/** A fresh client (so a fresh managed connection) and its mock; the session of one invocation. */
const setup = (timeoutMs = 10_000, extra: Partial<DataApiConnectionOptions<string>> = {}) => {
  const client = new RDSDataClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  })
  const mock: AwsClientStub<RDSDataClient> = mockClient(client)
  const managed = createDataApiConnection({
    config: { resourceArn, secretArn, database: 'shop', client },
    ...extra,
  })
  created.push(managed)
  const context = fakeContext({ timeoutMs })
  return { mock, db: managed.session(context), context }
}

describe('statements', () => {
  test('named parameters map every JS type and the input is exactly what the Data API needs', async () => {
    const { mock, db } = setup()
    mock
      .on(ExecuteStatementCommand)
      .resolves({ columnMetadata: [{ label: 'n', typeName: 'INT' }], records: [[{ longValue: 1 }]] })
    const when = new Date(Date.UTC(2026, 11, 1, 15, 4, 5, 123))
    await db.query('SELECT :n AS n', {
      int: 42,
      double: 1.5,
      big: 2n ** 63n - 1n,
      smallBig: 7n,
      yes: true,
      text: 'hé',
      bytes: Buffer.from([0, 255]),
      when,
      none: null,
      ids: [1, 2],
      names: ['a', 'b'],
      doc: { a: 1 },
    })
    expect(mock).toHaveReceivedCommandTimes(ExecuteStatementCommand, 1)
    expect(mock.commandCalls(ExecuteStatementCommand)[0]!.args[0].input).toEqual({
      resourceArn,
      secretArn,
      database: 'shop',
      sql: 'SELECT :n AS n',
      includeResultMetadata: true,
      parameters: [
        { name: 'int', value: { longValue: 42 } },
        { name: 'double', value: { doubleValue: 1.5 } },
        { name: 'big', value: { stringValue: '9223372036854775807' }, typeHint: 'DECIMAL' },
        { name: 'smallBig', value: { longValue: 7 } },
        { name: 'yes', value: { booleanValue: true } },
        { name: 'text', value: { stringValue: 'hé' } },
        { name: 'bytes', value: { blobValue: Buffer.from([0, 255]) } },
        { name: 'when', value: { stringValue: '2026-12-01 15:04:05.123' }, typeHint: 'TIMESTAMP' },
        { name: 'none', value: { isNull: true } },
        { name: 'ids', value: { arrayValue: { longValues: [1, 2] } } },
        { name: 'names', value: { arrayValue: { stringValues: ['a', 'b'] } } },
        { name: 'doc', value: { stringValue: '{"a":1}' }, typeHint: 'JSON' },
      ],
    })
  })

  test('each call carries an abort signal', async () => {
    const { mock, db } = setup()
    mock.on(ExecuteStatementCommand).resolves({ numberOfRecordsUpdated: 0 })
    await db.query('DELETE FROM t')
    // The stub records what `client.send` was given; the SDK's typings show only the command.
    const options = (mock.send.getCall(0).args as unknown[])[1] as { abortSignal?: AbortSignal }
    expect(options.abortSignal).toBeInstanceOf(AbortSignal)
    expect(options.abortSignal!.aborted).toBe(false)
  })

  test('rows come out typed by their column: bigint, decimal, date/time, blob, arrays, JSON, null', async () => {
    const { mock, db } = setup()
    mock.on(ExecuteStatementCommand).resolves({
      columnMetadata: [
        { label: 'id', typeName: 'BIGINT' },
        { label: 'price', typeName: 'DECIMAL' },
        { label: 'at', typeName: 'DATETIME' },
        { label: 'day', typeName: 'DATE' },
        { label: 'clock', typeName: 'TIME' },
        { label: 'raw', typeName: 'BLOB' },
        { label: 'tags', typeName: '_text' },
        { label: 'doc', typeName: 'json' },
        { label: 'gone', typeName: 'VARCHAR' },
        { label: 'ok', typeName: 'BIT' },
        { label: 'ratio', typeName: 'DOUBLE' },
      ],
      records: [
        [
          { longValue: 9007199254740991 },
          { stringValue: '12.30' },
          { stringValue: '2026-12-01 15:04:05.123' },
          { stringValue: '2026-12-01' },
          { stringValue: '15:04:05' },
          { blobValue: new Uint8Array([1, 2, 3]) },
          { arrayValue: { stringValues: ['a', 'b'] } },
          { stringValue: '{"k":[1,2]}' },
          { isNull: true },
          { booleanValue: true },
          { doubleValue: 0.25 },
        ],
      ],
    })
    const [row] = await db.query('SELECT * FROM t')
    expect(row).toEqual({
      id: 9007199254740991,
      price: '12.30',
      at: new Date(Date.UTC(2026, 11, 1, 15, 4, 5, 123)),
      day: '2026-12-01',
      clock: '15:04:05',
      raw: Buffer.from([1, 2, 3]),
      tags: ['a', 'b'],
      doc: { k: [1, 2] },
      gone: null,
      ok: true,
      ratio: 0.25,
    })
    expect(Buffer.isBuffer(row!.raw)).toBe(true)
  })

  test('a SELECT with no rows is an empty list; a write is a header with generated fields', async () => {
    const { mock, db } = setup()
    mock
      .on(ExecuteStatementCommand, { sql: 'SELECT id FROM t' })
      .resolves({ columnMetadata: [{ label: 'id', typeName: 'INT' }], records: [] })
      .on(ExecuteStatementCommand, { sql: 'INSERT INTO t (n) VALUES (:n)' })
      .resolves({ numberOfRecordsUpdated: 1, generatedFields: [{ longValue: 17 }] })
    expect(await db.query('SELECT id FROM t')).toEqual([])
    const header = await db.execute<DataApiWriteResult>('INSERT INTO t (n) VALUES (:n)', { n: 1 })
    expect(header).toEqual({ numberOfRecordsUpdated: 1, generatedFields: [17] })
  })

  test('positional values are refused with the fix, before anything is sent', async () => {
    const { mock, db } = setup()
    await expect(db.query('SELECT ?', [1])).rejects.toThrow(/named parameters: write :name/)
    expect(mock).toHaveReceivedCommandTimes(ExecuteStatementCommand, 0)
  })
})

describe('the client', () => {
  test('without one, one is built per environment: keep-alive handler, no SDK retries', async () => {
    const managed = createDataApiConnection({ config: { resourceArn, secretArn: `${secretArn}-built` } })
    created.push(managed)
    const target = await managed.session(fakeContext()).connection()
    const again = await managed.session(fakeContext()).connection()
    expect(again.client).toBe(target.client)
    expect(target.client).toBeInstanceOf(RDSDataClient)
    expect(target.client.config.requestHandler).toBeInstanceOf(KeepaliveRequestHandler)
    expect(await target.client.config.maxAttempts()).toBe(1)
  })
})

describe('retries inside the remaining time', () => {
  test('a resuming cluster: 3× DatabaseResumingException, then the statement runs', async () => {
    const { mock, db } = setup()
    mock
      .on(ExecuteStatementCommand)
      .rejectsOnce(resuming())
      .rejectsOnce(resuming())
      .rejectsOnce(resuming())
      .resolves({ columnMetadata: [{ label: 'one', typeName: 'INT' }], records: [[{ longValue: 1 }]] })
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }])
    expect(mock).toHaveReceivedCommandTimes(ExecuteStatementCommand, 4)
  })

  test('a resume that does not fit the remaining time fails before the timeout, saying why', async () => {
    const { mock, db, context } = setup(1_500)
    mock.on(ExecuteStatementCommand).rejects(resuming())
    const error = (await db
      .query('SELECT * FROM orders WHERE id = :id', { id: 1 })
      .catch((e) => e)) as DeadlineError
    expect(error).toBeInstanceOf(DeadlineError)
    expect(error.message).toMatch(/resuming from a pause.*"SELECT \* FROM orders" was not run/)
    expect(error.cause).toBeInstanceOf(DatabaseResumingException)
    expect(mock.commandCalls(ExecuteStatementCommand).length).toBeGreaterThan(1)
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0)
  })

  test('the retry option shapes the wait: maxAttempts bounds it', async () => {
    const { mock, db } = setup(10_000, { retry: { maxAttempts: 2, baseMs: 1, capMs: 5 } })
    mock.on(ExecuteStatementCommand).rejects(resuming())
    await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(DeadlineError)
    expect(mock).toHaveReceivedCommandTimes(ExecuteStatementCommand, 2)
  })

  test.each([
    [
      'the communications link failure',
      () =>
        new BadRequestException({
          message:
            'Communications link failure\n\nThe last packet sent successfully to the server was 0 milliseconds ago.',
          ...meta,
        }),
    ],
    [
      'throttling',
      () =>
        Object.assign(new Error('Rate exceeded'), {
          name: 'ThrottlingException',
          $metadata: { httpStatusCode: 429 },
        }),
    ],
    [
      'a 503',
      () => new ServiceUnavailableError({ message: 'unavailable', $metadata: { httpStatusCode: 503 } }),
    ],
  ])('%s is retried', async (_name, error) => {
    const { mock, db } = setup()
    mock.on(ExecuteStatementCommand).rejectsOnce(error()).resolves({ numberOfRecordsUpdated: 2 })
    expect(await db.query('UPDATE t SET n = 1')).toEqual({ numberOfRecordsUpdated: 2 })
    expect(mock).toHaveReceivedCommandTimes(ExecuteStatementCommand, 2)
  })

  test('a 500 may have run: not re-run, unless the statement is idempotent', async () => {
    const { mock, db } = setup()
    const internal = () =>
      new InternalServerErrorException({ message: 'internal', $metadata: { httpStatusCode: 500 } })
    mock.on(ExecuteStatementCommand).rejectsOnce(internal()).resolves({ numberOfRecordsUpdated: 1 })
    await expect(db.query('INSERT INTO t VALUES (1)')).rejects.toBeInstanceOf(ConnectionLostError)
    expect(mock).toHaveReceivedCommandTimes(ExecuteStatementCommand, 1)
    mock.reset()
    mock.on(ExecuteStatementCommand).rejectsOnce(internal()).resolves({ numberOfRecordsUpdated: 1 })
    expect(await db.query('UPDATE t SET n = 1', undefined, { idempotent: true })).toEqual({
      numberOfRecordsUpdated: 1,
    })
    expect(mock).toHaveReceivedCommandTimes(ExecuteStatementCommand, 2)
  })

  test('a statement that outlives its time is aborted and reported as a DeadlineError', async () => {
    const { mock, db } = setup()
    // Answers only when aborted, the way the SDK's HTTP handler does at the signal.
    const hang = (_command: unknown, options: { abortSignal: AbortSignal }) =>
      new Promise<never>((_resolve, reject) =>
        options.abortSignal.addEventListener('abort', () =>
          reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })),
        ),
      )
    mock.send.callsFake(hang as unknown as Parameters<typeof mock.send.callsFake>[0])
    await expect(db.query('SELECT SLEEP(10)', undefined, { timeoutMs: 100 })).rejects.toBeInstanceOf(
      DeadlineError,
    )
  })
})

describe('errors', () => {
  test('a SQL error is an OperationError with the SDK error as cause, sent once', async () => {
    const { mock, db } = setup()
    const sdkError = new BadRequestException({ message: "Table 'shop.nope' doesn't exist", ...meta })
    mock.on(ExecuteStatementCommand).rejects(sdkError)
    const error = (await db.query('SELECT * FROM nope').catch((e) => e)) as OperationError
    expect(error).toBeInstanceOf(OperationError)
    expect(error.cause).toBe(sdkError)
    expect(error.message).toMatch(/doesn't exist/)
    expect(mock).toHaveReceivedCommandTimes(ExecuteStatementCommand, 1)
  })

  test('refused credentials are an AuthenticationError; a secret ARN in the SDK message is not repeated', async () => {
    const { mock, db } = setup()
    mock
      .on(ExecuteStatementCommand)
      .rejects(new ForbiddenException({ message: `User is not authorized to access ${secretArn}`, ...meta }))
    const error = (await db.query('SELECT 1').catch((e) => e)) as AuthenticationError
    expect(error).toBeInstanceOf(AuthenticationError)
    expect(error.message).not.toContain(secretArn)
    expect((error.cause as Error).message).not.toContain(secretArn)
  })

  test('a result over 1 MiB says to paginate and names the statement', async () => {
    const { mock, db } = setup()
    mock.on(ExecuteStatementCommand).rejects(
      new BadRequestException({
        message: 'Database returned more than the allowed response size limit',
        ...meta,
      }),
    )
    await expect(
      db.query('SELECT body, created_at FROM documents WHERE owner = :o', { o: 1 }),
    ).rejects.toThrow(
      /"SELECT body, created_at FROM" is over the Data API's 1 MiB response limit; paginate it \(LIMIT\/OFFSET\)/,
    )
  })

  test('bad options are TypeErrors at construction naming the option', () => {
    const client = new RDSDataClient({ region: 'eu-west-1' })
    expect(() => createDataApiConnection({ config: { resourceArn: '', secretArn, client } })).toThrow(
      /config.resourceArn|resourceArn/,
    )
    expect(() =>
      createDataApiConnection({
        config: { resourceArn, secretArn, client },
        password: 'x',
      } as DataApiConnectionOptions),
    ).toThrow(/option "password" applies to connections/)
    expect(() =>
      createDataApiConnection({ config: { resourceArn, secretArn, client: {} as RDSDataClient } }),
    ).toThrow(/client/)
  })
})

describe('transactions', () => {
  const tx = { transactionId: 'tx-1' }

  test('the transactionId is on every call; committed when the work resolves', async () => {
    const { mock, db } = setup()
    mock.on(BeginTransactionCommand).resolves(tx)
    mock.on(ExecuteStatementCommand).resolves({ numberOfRecordsUpdated: 1 })
    mock.on(CommitTransactionCommand).resolves({ transactionStatus: 'Transaction Committed' })
    await db.transaction(async (t) => {
      await t.query('UPDATE stock SET n = n - 1 WHERE id = :id', { id: 1 })
      await t.query('INSERT INTO orders (item) VALUES (:id)', { id: 1 })
    })
    expect(mock).toHaveReceivedCommandWith(BeginTransactionCommand, {
      resourceArn,
      secretArn,
      database: 'shop',
    })
    for (const call of mock.commandCalls(ExecuteStatementCommand)) {
      expect(call.args[0].input.transactionId).toBe('tx-1')
    }
    expect(mock.commandCalls(CommitTransactionCommand)[0]!.args[0].input).toEqual({
      resourceArn,
      secretArn,
      transactionId: 'tx-1',
    })
    expect(mock).toHaveReceivedCommandTimes(RollbackTransactionCommand, 0)
  })

  test('rolled back when the work throws; a failed statement inside is never re-run', async () => {
    const { mock, db } = setup()
    mock.on(BeginTransactionCommand).resolves(tx)
    mock.on(ExecuteStatementCommand).rejects(resuming())
    mock.on(RollbackTransactionCommand).resolves({ transactionStatus: 'Rollback Complete' })
    await expect(db.transaction(async (t) => t.query('UPDATE stock SET n = 0'))).rejects.toBeInstanceOf(
      DeadlineError,
    )
    expect(mock).toHaveReceivedCommandTimes(ExecuteStatementCommand, 1)
    expect(mock).toHaveReceivedCommandWith(RollbackTransactionCommand, {
      resourceArn,
      secretArn,
      transactionId: 'tx-1',
    })
    expect(mock).toHaveReceivedCommandTimes(CommitTransactionCommand, 0)
  })

  test('a lost commit is a TransactionError that says it may have committed', async () => {
    const { mock, db } = setup()
    mock.on(BeginTransactionCommand).resolves(tx)
    mock
      .on(CommitTransactionCommand)
      .rejects(new InternalServerErrorException({ message: 'internal', $metadata: { httpStatusCode: 500 } }))
    await expect(db.transaction(async () => 1)).rejects.toThrow(TransactionError)
    expect(mock).toHaveReceivedCommandTimes(CommitTransactionCommand, 1)
  })
})
