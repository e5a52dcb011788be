import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from '@jest/globals'
import { type EnvironmentOptions, type InvocationResult, LambdaEnvironment } from '../src/index.js'

const module = path.resolve('packages/lambda-sim/test/fixtures/worker-handler.mjs')
const environments: LambdaEnvironment[] = []
/** Waits until `count` threads of `pid` sleep in a pipe read (Linux: their wchan), polling. */
const threadsInPipeRead = async (pid: number, count: number): Promise<void> => {
  const blocked = () =>
    readdirSync(`/proc/${pid}/task`).filter((tid) => {
      try {
        return readFileSync(`/proc/${pid}/task/${tid}/wchan`, 'utf8').includes('pipe_read')
      } catch {
        return false
      }
    }).length
  const started = Date.now()
  while (blocked() < count) {
    if (Date.now() - started > 10_000)
      throw new Error(`${count} threads of ${pid} never blocked in a pipe read`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const start = async (options: Partial<EnvironmentOptions> = {}) => {
  const environment = await LambdaEnvironment.start({ module, output: 'ignore', ...options })
  environments.push(environment)
  return environment
}
afterEach(async () => {
  await Promise.all(environments.splice(0).map((e) => e.close()))
})

type WorkerState = { threadId: number; invocations: number; peakInFlight: number }

/** Invokes until an invocation fails (the runtime learns of a dead worker asynchronously). */
const invokeUntilFailure = async (environment: LambdaEnvironment): Promise<InvocationResult> => {
  for (let i = 0; i < 200; i++) {
    const result = await environment.invoke({}).catch((error: Error) => ({
      ok: false,
      error: { name: 'Rejected', message: error.message },
      durationMs: 0,
    }))
    if (!result.ok) return result
  }
  throw new Error('every invocation succeeded')
}

describe('LambdaEnvironment in Managed Instances mode', () => {
  test('each worker thread loads its own copy of the handler module', async () => {
    const environment = await start({ managedInstances: { maxConcurrency: 8, workers: 4 } })
    const results = await Promise.all(Array.from({ length: 8 }, () => environment.invoke({ sleepMs: 100 })))
    expect(results.every((r) => r.ok)).toBe(true)
    const states = await environment.call<WorkerState[]>('state')
    expect(states).toHaveLength(4)
    expect(new Set(states.map((s) => s.threadId)).size).toBe(4)
    expect(states.reduce((sum, s) => sum + s.invocations, 0)).toBe(8)
    // No worker runs more than its share of the concurrency (8 / 4).
    expect(Math.max(...states.map((s) => s.peakInFlight))).toBeLessThanOrEqual(2)
  })

  test('announces the concurrency and worker count, and leaves libuv its default threadpool', async () => {
    const previous = process.env.UV_THREADPOOL_SIZE
    process.env.UV_THREADPOOL_SIZE = '16'
    try {
      const environment = await start({ managedInstances: { maxConcurrency: 6, workers: 3 } })
      expect(await environment.invoke({})).toMatchObject({
        ok: true,
        value: { maxConcurrency: '6', workers: '3', threadpool: 'default' },
      })
    } finally {
      if (previous === undefined) delete process.env.UV_THREADPOOL_SIZE
      else process.env.UV_THREADPOOL_SIZE = previous
    }
  })

  test('does not enforce the timeout: the remaining time goes below zero and the handler finishes', async () => {
    const environment = await start({ timeoutMs: 50, managedInstances: { maxConcurrency: 2, workers: 1 } })
    const result = await environment.invoke({ sleepMs: 150 })
    expect(result.ok).toBe(true)
    expect((result.value as { remainingMs: number }).remainingMs).toBeLessThan(0)
  })

  test('with 4 workers waiting for events, dns.lookup stalls; with 2 it does not', async () => {
    const stalled = await start({ managedInstances: { maxConcurrency: 8, workers: 4 } })
    // The workers' waits are queued when start() resolves; the threads take them up as the machine
    // schedules them. The stall is about 4 threads blocked in the kernel: wait for exactly that.
    await threadsInPipeRead(stalled.pid, 4)
    expect(await stalled.invoke({ lookup: 'localhost', lookupWithinMs: 1000 })).toMatchObject({
      value: { lookup: 'stalled' },
    })
    const fine = await start({ managedInstances: { maxConcurrency: 8, workers: 2 } })
    expect(await fine.invoke({ lookup: 'localhost', lookupWithinMs: 1000 })).toMatchObject({
      value: { lookup: 'resolved' },
    })
  })

  test('an unhandled rejection kills its worker, and the next event the whole environment', async () => {
    const environment = await start({ managedInstances: { maxConcurrency: 2, workers: 2 } })
    await environment.invoke({ leakRejection: true })
    const failed = await invokeUntilFailure(environment)
    expect(['EnvironmentExited', 'WorkerExited', 'Rejected']).toContain(failed.error?.name)
    expect(environment.alive).toBe(false)
  })
})

test('a classic environment ends on an unhandled rejection too (--unhandled-rejections=strict)', async () => {
  const environment = await start()
  await environment.invoke({ leakRejection: true })
  const failed = await invokeUntilFailure(environment)
  expect(['EnvironmentExited', 'Rejected']).toContain(failed.error?.name)
  expect(environment.alive).toBe(false)
})

test('a fleet with workersPerEnvironment runs its environments on worker threads', async () => {
  const { Fleet } = await import('../src/index.js')
  const fleet = new Fleet({
    module,
    output: 'ignore',
    perEnvironmentConcurrency: 4,
    workersPerEnvironment: 2,
    maxEnvironments: 1,
    event: { sleepMs: 20 },
  })
  const results = await fleet.run([{ concurrency: 4, invocations: 8 }])
  expect(results).toMatchObject({ successes: 8, environmentsStarted: 1 })
})
