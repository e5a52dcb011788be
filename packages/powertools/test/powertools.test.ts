import { Logger } from '@aws-lambda-powertools/logger'
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import { Metrics } from '@aws-lambda-powertools/metrics'
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals'
import middy from '@middy/core'
import { EventSink, type LifecycleEvent } from '@middy-downstream/core'
import { downstreamGuard, type GuardContext } from '@middy-downstream/downstream-guard'
import { type RedisConnectionContext, redisConnection } from '@middy-downstream/redis-connection'
import { fakeContext, RedisServer } from '@middy-downstream/testing'
import type { Context } from 'aws-lambda'
import { powertoolsListener } from '../src/index.js'

// The real Powertools Logger and Metrics write JSON lines to stdout and stderr (warn and error go
// to stderr, as in Lambda, where both reach CloudWatch Logs); the tests read what they wrote.

process.env.AWS_LAMBDA_FUNCTION_NAME = 'orders-function'

type Line = Record<string, unknown>
let written: Line[] = []

const capture = () => {
  const record = (chunk: unknown) => {
    for (const text of String(chunk).split('\n')) {
      if (text.trim().startsWith('{')) written.push(JSON.parse(text) as Line)
    }
    return true
  }
  jest.spyOn(process.stdout, 'write').mockImplementation(record)
  jest.spyOn(process.stderr, 'write').mockImplementation(record)
}

const logLines = () => written.filter((line) => typeof line.message === 'string')
const emfBlobs = () => written.filter((line) => line._aws !== undefined)
/** The metric values of one EMF blob, by name. */
const metricValues = (blob: Line) => {
  const definitions = (blob._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] })
    .CloudWatchMetrics
  return Object.fromEntries(definitions[0]!.Metrics.map(({ Name }) => [Name, blob[Name]]))
}

const newLogger = () => new Logger({ serviceName: 'orders', logLevel: 'DEBUG' })
const newMetrics = () => new Metrics({ namespace: 'Orders', serviceName: 'orders' })

beforeEach(() => {
  written = []
  capture()
})
afterEach(() => {
  jest.restoreAllMocks()
})

describe('with a real middleware (redis-connection) and the Powertools middlewares', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await RedisServer.start()
  })
  afterAll(() => redis?.dispose())

  /** A Middy chain with Powertools' middlewares in front, and a listener writing to them. */
  const logged = () => {
    const logger = newLogger()
    const metrics = newMetrics()
    const onEvent = powertoolsListener({ logger, metrics })
    const url = `redis://${redis.host}:${redis.port}`
    return { url, onEvent, base: middy().use(injectLambdaContext(logger)).use(logMetrics(metrics)) }
  }

  test('each invocation logs its events with its request id and flushes its counts as EMF', async () => {
    const { url, onEvent, base } = logged()
    const handler = base
      .use(redisConnection({ url, onEvent }))
      .handler(async (_event, context) => context.redis.incr('visits'))

    // Middy types the wrapped handler as taking the context the middleware promises. The
    // invocation's own context names the function (AWS_LAMBDA_FUNCTION_NAME is the fallback).
    const context = (awsRequestId: string) =>
      fakeContext({ awsRequestId, functionName: 'orders-function' }) as RedisConnectionContext & Context
    expect(await handler({}, context('first-request'))).toBe(1)
    expect(await handler({}, context('second-request'))).toBe(2)

    const opened = logLines().find(
      (line) => line.message === '@middy-downstream/redis-connection: connection opened',
    )
    expect(opened).toMatchObject({
      level: 'DEBUG',
      service: 'orders',
      function_request_id: 'first-request',
      downstream: {
        type: 'open',
        package: '@middy-downstream/redis-connection',
        functionName: 'orders-function',
        awsRequestId: 'first-request',
      },
    })
    const [first, second] = emfBlobs()
    expect(first).toMatchObject({ service: 'orders', _aws: { CloudWatchMetrics: [{ Namespace: 'Orders' }] } })
    expect(metricValues(first!)).toMatchObject({ ConnectionsOpened: 1, ReleaseKeep: 1 })
    expect(metricValues(second!)).toMatchObject({ ReleaseKeep: 1 })
    expect(metricValues(second!)).not.toHaveProperty('ConnectionsOpened')
    expect(JSON.stringify(written)).not.toContain('password')
  })

  test('downstream-guard’s permits: a log line per permit event and their counts, per invocation', async () => {
    const { url, onEvent, base } = logged()
    const handler = base
      .use(downstreamGuard({ name: 'legacy-billing', redis: { url }, concurrency: 2, onEvent }))
      .handler(async (_event, context) => context.guard.state)
    const context = fakeContext({ awsRequestId: 'guarded-request' }) as GuardContext & Context
    expect(await handler({}, context)).toBe('held')
    // (The first test's listener still logs the shared Redis client's own events: only the guard's here.)
    const guardLines = logLines().filter((line) => String(line.message).includes('downstream-guard'))
    expect(guardLines.map(({ message }) => message)).toEqual([
      expect.stringMatching(/^@middy-downstream\/downstream-guard: permit for legacy-billing acquired/),
      expect.stringMatching(/^@middy-downstream\/downstream-guard: permit for legacy-billing given back/),
    ])
    expect(guardLines[0]).toMatchObject({
      function_request_id: 'guarded-request',
      downstream: { type: 'acquire', awsRequestId: 'guarded-request', functionName: 'test-function' },
    })
    expect(metricValues(emfBlobs()[0]!)).toMatchObject({ PermitsAcquired: 1, PermitsReturned: 1 })
  })
})

describe('what each event becomes', () => {
  const emitAll = (events: Omit<LifecycleEvent, 'package' | 'key'>[], options = {}) => {
    const logger = newLogger()
    const metrics = newMetrics()
    const sink = new EventSink('@middy-downstream/db-connection', 'host=db;user=app')
    sink.subscribe(powertoolsListener({ logger, metrics, ...options }))
    for (const event of events) sink.emit(event)
    metrics.publishStoredMetrics()
  }

  test('failures are logged at warn and error, and counted: capacity and deadline errors on their own', () => {
    emitAll([
      {
        type: 'retry',
        attempt: 1,
        delayMs: 40,
        error: { name: 'CapacityError', message: 'Too many connections' },
      },
      {
        type: 'error',
        error: { name: 'CapacityError', message: 'Too many connections', code: 'ER_CON_COUNT_ERROR' },
      },
      { type: 'error', awsRequestId: 'r-1', error: { name: 'DeadlineError', message: 'no time left' } },
      { type: 'validate', ok: false },
      { type: 'release', action: 'destroy', reason: 'rollback-failed' },
    ])
    expect(logLines().map(({ level, message }) => [level, message])).toEqual([
      ['WARN', '@middy-downstream/db-connection: attempt 1 failed; retrying in 40 ms'],
      ['ERROR', '@middy-downstream/db-connection: failed: CapacityError'],
      ['ERROR', '@middy-downstream/db-connection: failed: DeadlineError'],
      ['WARN', '@middy-downstream/db-connection: connection failed its check after idle; replaced'],
      ['WARN', '@middy-downstream/db-connection: connection released: destroy'],
    ])
    expect(logLines()[2]).toMatchObject({
      downstream: { awsRequestId: 'r-1', functionName: 'orders-function', key: 'host=db;user=app' },
    })
    const [blob] = emfBlobs()
    expect(metricValues(blob!)).toEqual({
      Retries: 1,
      Errors: [1, 1],
      CapacityErrors: 1,
      DeadlineErrors: 1,
      ConnectionsValidated: 1,
      ValidationFailures: 1,
      ReleaseDestroy: 1,
    })
  })

  test('routine events at debug (or routineLevel), counts of reaped and closed connections', () => {
    emitAll(
      [
        { type: 'open', clientId: 1, durationMs: 12 },
        { type: 'reuse', clientId: 1 },
        { type: 'release', action: 'close', reason: 'utilization' },
        { type: 'reap', count: 3 },
        { type: 'close', reason: 'unread-body', count: 4 },
      ],
      { routineLevel: 'info', metricPrefix: 'Db' },
    )
    expect(logLines().map(({ level }) => level)).toEqual(['INFO', 'INFO', 'INFO', 'INFO', 'WARN'])
    expect(metricValues(emfBlobs()[0]!)).toEqual({
      DbConnectionsOpened: 1,
      DbConnectionsReused: 1,
      DbReleaseClose: 1,
      DbConnectionsReaped: 3,
      DbUnreadBodiesDestroyed: 4,
    })
  })

  test('downstream-guard’s permit events: waiting at info, throttled and expired at warn, each counted', () => {
    const logger = newLogger()
    const metrics = newMetrics()
    const sink = new EventSink('@middy-downstream/downstream-guard', 'legacy-billing')
    sink.subscribe(powertoolsListener({ logger, metrics }))
    sink.emit({ type: 'wait', limit: 'concurrency', awsRequestId: 'r-2' })
    sink.emit({ type: 'acquire', durationMs: 120, attempts: 4, awsRequestId: 'r-2' })
    sink.emit({ type: 'return', durationMs: 300, awsRequestId: 'r-2' })
    sink.emit({ type: 'throttle', limit: 'rate', durationMs: 900, attempts: 9 })
    sink.emit({ type: 'expire', durationMs: 31_000, reason: 'late-release' })
    metrics.publishStoredMetrics()
    expect(logLines().map(({ level, message }) => [level, message])).toEqual([
      [
        'INFO',
        '@middy-downstream/downstream-guard: waiting for a permit for legacy-billing: its concurrency limit is reached',
      ],
      ['DEBUG', '@middy-downstream/downstream-guard: permit for legacy-billing acquired after 120 ms'],
      ['DEBUG', '@middy-downstream/downstream-guard: permit for legacy-billing given back after 300 ms'],
      [
        'WARN',
        '@middy-downstream/downstream-guard: no permit for legacy-billing (rate) after 900 ms: throttled',
      ],
      [
        'WARN',
        '@middy-downstream/downstream-guard: permit for legacy-billing had expired before its release, after 31000 ms: the lease was shorter than the work',
      ],
    ])
    expect(logLines()[1]).toMatchObject({
      downstream: { type: 'acquire', awsRequestId: 'r-2', functionName: 'orders-function', attempts: 4 },
    })
    expect(metricValues(emfBlobs()[0]!)).toEqual({
      PermitWaits: 1,
      PermitsAcquired: 1,
      PermitsReturned: 1,
      Throttles: 1,
      ThrottlesRate: 1,
      LeasesExpired: 1,
    })
  })

  test('only a logger, or only metrics', () => {
    const sink = new EventSink('@middy-downstream/db-connection', 'k')
    const metrics = newMetrics()
    sink.subscribe(powertoolsListener({ metrics }))
    sink.emit({ type: 'open' })
    metrics.publishStoredMetrics()
    expect(logLines()).toEqual([])
    expect(metricValues(emfBlobs()[0]!)).toEqual({ ConnectionsOpened: 1 })
  })
})

describe('bad options', () => {
  test('a TypeError naming the option and the fix', () => {
    expect(() => powertoolsListener({})).toThrow(
      /pass a Powertools Logger as "logger", a Metrics as "metrics"/,
    )
    expect(() => powertoolsListener({ logger: console.log as never })).toThrow(
      /option "logger" must be a Powertools Logger/,
    )
    expect(() => powertoolsListener({ metrics: newMetrics(), routineLevel: 'warn' as never })).toThrow(
      /option "routineLevel" must be one of "debug", "info"/,
    )
    expect(() => powertoolsListener({ logger: newLogger(), metricsNamespace: 'x' } as never)).toThrow(
      /unknown option "metricsNamespace"/,
    )
  })
})
