// The examples under the real Node.js runtime interface client in Managed Instances mode:
// `AWS_LAMBDA_MAX_CONCURRENCY` set, so the client runs the handler on worker threads, each with its
// own copy of the module, never frozen. Connections are counted on the private servers.
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { MariaDbServer, RedisServer, RicEnvironment } from '@middy-downstream/testing'
import { connectionBudget } from '../../packages/core/src/index.js'
import { measure, underRic } from '../managed-instances/measure.mjs'
import { cleanExit, peakWhile, redisConnectionIds } from './server-connections.js'

const example = (name: string) => path.resolve('examples', name)
const all = <T>(n: number, invoke: (i: number) => Promise<T>) =>
  Promise.all(Array.from({ length: n }, (_, i) => invoke(i)))

describe('Managed Instances mode, worker threads', () => {
  let mariadb: MariaDbServer
  let redis: RedisServer
  beforeAll(async () => {
    ;[mariadb, redis] = await Promise.all([MariaDbServer.start({ maxConnections: 100 }), RedisServer.start()])
  })
  afterAll(() => Promise.all([mariadb.dispose(), redis.dispose()]))

  // The default budget is min(concurrency, max(4, workers)) connections for the whole environment.
  test.each([
    [8, 2, 4],
    [8, 8, 8],
    [16, 8, 8],
  ])(
    'db-connection at concurrency %i over %i workers: no failure, at most %i connections',
    async (concurrency, workers, budget) => {
      const started: RicEnvironment[] = []
      const result = await measure(mariadb, concurrency, workers, async (server, mi) => {
        const environment = await underRic(server, mi)
        started.push(environment)
        return environment
      })
      cleanExit(await (started[0] as RicEnvironment).close())
      expect(result).toMatchObject({ failed: 0, failures: {} })
      expect(result.peakConnections).toBeGreaterThan(0)
      expect(result.peakConnections).toBeLessThanOrEqual(budget)
    },
  )

  test('db-connection without a worker count: the client starts 8 per vCPU, and the budget counts them', async () => {
    // No AWS_LAMBDA_NODEJS_WORKER_COUNT: aws-lambda-ric starts 8 workers per vCPU of the cgroup
    // (8 with no readable cpu.max); the default budget is min(16, max(4, workers)). Counting one
    // worker per CPU instead promised 4 and gave each of the 8 workers 2: 16 connections.
    const budget = connectionBudget(undefined, 4, { AWS_LAMBDA_MAX_CONCURRENCY: '16' })
    const started: RicEnvironment[] = []
    const result = await measure(mariadb, 16, undefined as unknown as number, async (server, mi) => {
      const environment = await underRic(server, { maxConcurrency: mi.maxConcurrency } as typeof mi)
      started.push(environment)
      return environment
    })
    cleanExit(await (started[0] as RicEnvironment).close())
    expect(result).toMatchObject({ failed: 0, failures: {} })
    expect(result.peakConnections).toBeGreaterThan(0)
    expect(result.peakConnections).toBeLessThanOrEqual(budget.perEnvironment)
  })

  test('redis-connection at concurrency 8 over 4 workers: every view counted, one connection per worker at most', async () => {
    const environment = await RicEnvironment.start({
      taskRoot: example('redis-connection'),
      managedInstances: { maxConcurrency: 8, workers: 4 },
      env: { REDIS_URL: redis.url },
    })
    const { result: rounds, peak } = await peakWhile(
      async () => (await redisConnectionIds(redis)).length,
      async () => [
        await all(8, () => environment.invoke({ page: 'mi' })),
        await all(8, () => environment.invoke({ page: 'mi' })),
      ],
    )
    const results = rounds.flat()
    expect(results.filter((r) => !r.ok)).toEqual([])
    const counts = results
      .map((r) => Number((r.value as { body: string }).body.split(' ')[0]))
      .sort((a, b) => a - b)
    expect(counts).toEqual(Array.from({ length: 16 }, (_, i) => i + 1))
    expect(peak).toBeLessThanOrEqual(4)
    cleanExit(await environment.close())
  })

  test('event-loop-release at concurrency 8 over 2 workers: every invocation answers, the runtime survives', async () => {
    const environment = await RicEnvironment.start({
      taskRoot: example('event-loop-release'),
      managedInstances: { maxConcurrency: 8, workers: 2 },
    })
    const results = await all(8, (i) => environment.invoke({ name: `n${i}` }))
    expect(results.map((r) => r.ok && (r.value as { body: string }).body)).toEqual(
      Array.from({ length: 8 }, (_, i) => `hello n${i}`),
    )
    cleanExit(await environment.close())
  })
})
