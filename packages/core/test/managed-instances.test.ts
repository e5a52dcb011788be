import os from 'node:os'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { describe, expect, test } from '@jest/globals'
import { connectionBudget, managedInstances, resolveHost } from '../src/index.js'

const mi = (maxConcurrency: number, workers: number) => ({
  AWS_LAMBDA_MAX_CONCURRENCY: String(maxConcurrency),
  AWS_LAMBDA_NODEJS_WORKER_COUNT: String(workers),
})

describe('managedInstances', () => {
  test('is undefined in a classic environment and reads the runtime variables otherwise', () => {
    expect(managedInstances({})).toBeUndefined()
    expect(managedInstances(mi(64, 8))).toEqual({ maxConcurrency: 64, workers: 8 })
  })

  test('without a worker count, 8 workers per vCPU of the cgroup, as aws-lambda-ric 4 starts them', () => {
    const env = { AWS_LAMBDA_MAX_CONCURRENCY: '64' }
    expect(managedInstances(env, () => '200000 100000\n')?.workers).toBe(16)
    expect(managedInstances(env, () => '150000 100000')?.workers).toBe(16)
    expect(managedInstances(env, () => 'max 100000')?.workers).toBe(8 * os.cpus().length)
    expect(
      managedInstances(env, () => {
        throw new Error('ENOENT')
      })?.workers,
    ).toBe(8)
  })
})

describe('connectionBudget', () => {
  test('classic: the pool is the budget', () => {
    expect(connectionBudget(undefined, 4, {})).toMatchObject({ perEnvironment: 4, perWorker: 4, workers: 1 })
  })

  test('a stated budget is split across the workers', () => {
    expect(connectionBudget(4, 4, mi(8, 2))).toMatchObject({ perEnvironment: 4, perWorker: 2 })
    expect(connectionBudget(16, 4, mi(64, 8))).toMatchObject({ perEnvironment: 16, perWorker: 2 })
  })

  test('the default never exceeds the concurrency, and each worker gets at least one', () => {
    expect(connectionBudget(undefined, 4, mi(2, 1))).toMatchObject({ perEnvironment: 2, perWorker: 2 })
    expect(connectionBudget(undefined, 4, mi(16, 8))).toMatchObject({ perEnvironment: 8, perWorker: 1 })
    expect(connectionBudget(2, 4, mi(16, 8))).toMatchObject({ perEnvironment: 2, perWorker: 1 })
  })

  test('a worker never gets more connections than the invocations it runs at once', () => {
    expect(connectionBudget(100, 4, mi(8, 2))).toMatchObject({ perWorker: 4 })
  })
})

describe('resolveHost', () => {
  test('an IP as is, localhost from the hosts file', async () => {
    expect(await resolveHost('10.1.2.3', 100)).toEqual({ address: '10.1.2.3', family: 4 })
    expect(await resolveHost('LOCALHOST', 100)).toMatchObject({ address: expect.any(String) })
  })
})

test('firstInEnvironment is true once per process, across worker threads', async () => {
  const core = path.resolve('packages/core/dist/index.js')
  const key = `test-${process.pid}-${Date.now()}`
  const answers = await Promise.all(
    Array.from(
      { length: 3 },
      () =>
        new Promise<boolean>((resolve, reject) => {
          const worker = new Worker(
            `import(${JSON.stringify(core)}).then((m) => require('node:worker_threads').parentPort.postMessage(m.firstInEnvironment(${JSON.stringify(key)})))`,
            { eval: true },
          )
          worker.once('message', resolve)
          worker.once('error', reject)
        }),
    ),
  )
  expect(answers.filter(Boolean)).toHaveLength(1)
})
