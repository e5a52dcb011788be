import path from 'node:path'
import { describe, expect, test } from '@jest/globals'
import {
  Fleet,
  type FleetOptions,
  type FleetProgress,
  type InvocationRecord,
  type LambdaEnvironment,
  runFleet,
} from '../src/index.js'
import { processState } from './process-state.js'

const fixture = (name: string) => path.resolve('packages/lambda-sim/test/fixtures', name)
const module = fixture('fleet-handler.mjs')

/** Runs a profile and collects every invocation record, in the order they finished. */
const run = async (options: Omit<FleetOptions, 'module'>, profile: Parameters<Fleet['run']>[0]) => {
  const records: InvocationRecord[] = []
  const fleet = new Fleet({ module, ...options, onInvocation: (record) => records.push(record) })
  const results = await fleet.run(profile)
  return { fleet, results, records }
}

describe('Fleet routing', () => {
  test('a sequential phase reuses one warm environment', async () => {
    const { results, records } = await run({}, [{ concurrency: 1, invocations: 20 }])
    expect(results).toMatchObject({
      invocations: 20,
      successes: 20,
      failures: 0,
      coldStarts: 1,
      environmentsStarted: 1,
      throttles: 0,
    })
    expect(new Set(records.map((r) => r.pid)).size).toBe(1)
    expect(records.map((r) => (r.value as { invocations: number }).invocations)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    )
    expect(results.latencyMs.count).toBe(20)
  })

  test('concurrency N starts N environments, each a cold start', async () => {
    const { results, records } = await run({}, [{ concurrency: 6, invocations: 18 }])
    expect(results).toMatchObject({
      successes: 18,
      coldStarts: 6,
      environmentsStarted: 6,
      peakEnvironments: 6,
    })
    expect(new Set(records.map((r) => r.pid)).size).toBe(6)
    expect(
      records
        .filter((r) => r.coldStart)
        .map((r) => r.environment)
        .sort(),
    ).toEqual([1, 2, 3, 4, 5, 6])
  })

  test('an idle invocation goes to the most recently used environment', async () => {
    const { records } = await run({}, [
      { concurrency: 3, invocations: 3 },
      { concurrency: 1, invocations: 5 },
    ])
    const lastOfFirstPhase = records.filter((r) => r.phase === 0).at(-1)!
    const second = records.filter((r) => r.phase === 1)
    expect(second.map((r) => r.environment)).toEqual(Array(5).fill(lastOfFirstPhase.environment))
    expect(second.some((r) => r.coldStart)).toBe(false)
  })

  test('the cap is respected: the rest wait (throttles) and all complete', async () => {
    const { results, records } = await run({ maxEnvironments: 2 }, [{ concurrency: 6, invocations: 12 }])
    expect(results).toMatchObject({
      successes: 12,
      environmentsStarted: 2,
      peakEnvironments: 2,
      coldStarts: 2,
    })
    // Six callers, two environments: at least the four first callers beyond the cap had to wait.
    expect(results.throttles).toBeGreaterThanOrEqual(4)
    expect(records.filter((r) => r.throttled)).toHaveLength(results.throttles)
    expect(new Set(records.map((r) => r.pid)).size).toBe(2)
  })

  test('reaping abandons the requested fraction, frozen; later phases start fresh environments', async () => {
    let abandoned: LambdaEnvironment[] = []
    const frozenStates: string[] = []
    const { results, records } = await run(
      {
        afterPhase: async ({ index, fleet }) => {
          if (index !== 1) return
          abandoned = [...fleet.abandonedEnvironments]
          for (const environment of abandoned) frozenStates.push(await processState(environment.pid))
        },
      },
      [
        { concurrency: 4, invocations: 4 },
        { reap: 0.5, pauseMs: 10 },
        { concurrency: 4, invocations: 4 },
      ],
    )
    expect(results.phases.map((p) => p.environmentsAbandoned)).toEqual([0, 2, 0])
    expect(results.phases.map((p) => p.environmentsStarted)).toEqual([4, 0, 2])
    expect(results.phases[2]).toMatchObject({ coldStarts: 2, successes: 4 })
    expect(results).toMatchObject({ environmentsStarted: 6, environmentsAbandoned: 2, successes: 8 })
    expect(frozenStates).toEqual(['T', 'T'])
    // The reaped ones were the least recently used of the first phase, and never served again.
    const abandonedPids = abandoned.map((e) => e.pid)
    const first = records.filter((r) => r.phase === 0)
    expect(abandonedPids.sort()).toEqual(
      first
        .slice(0, 2)
        .map((r) => r.pid)
        .sort(),
    )
    const later = records.filter((r) => r.phase === 2)
    expect(later.some((r) => abandonedPids.includes(r.pid!))).toBe(false)
    expect(new Set(later.filter((r) => r.coldStart).map((r) => r.pid)).size).toBe(2)
    // The run closed the fleet: abandoned environments too.
    expect(abandoned.map((e) => e.alive)).toEqual([false, false])
  })

  test('Managed Instances mode puts several invocations in one environment at once', async () => {
    const { results, records } = await run({ perEnvironmentConcurrency: 4 }, [
      { concurrency: 4, invocations: 4, event: { peers: 4 } },
      { concurrency: 8, invocations: 8, event: { peers: 4 } },
    ])
    expect(results.successes).toBe(12)
    expect(results.phases.map((p) => p.environmentsStarted)).toEqual([1, 1])
    const first = records.filter((r) => r.phase === 0)
    expect(new Set(first.map((r) => r.pid)).size).toBe(1)
    expect(first.map((r) => (r.value as { maxInFlight: number }).maxInFlight)).toContain(4)
    const second = records.filter((r) => r.phase === 1)
    expect(new Set(second.map((r) => r.pid)).size).toBe(2)
  })
})

describe('Fleet results', () => {
  test('failures are counted by code, else cause code, else name', async () => {
    const kinds = ['code', 'cause', 'name', undefined]
    const { results, records } = await run({ event: ({ index }) => ({ fail: kinds[index % 4] }) }, [
      { invocations: 8 },
    ])
    expect(results).toMatchObject({
      invocations: 8,
      successes: 2,
      failures: 6,
      failuresByCode: { E_CODE: 2, E_CAUSE: 2, NamedError: 2 },
    })
    expect(records.find((r) => r.code === 'E_CAUSE')?.error).toMatchObject({ message: 'wrapped' })
  })

  test('a timed-out or crashed environment is recycled and the next invocation starts a new one', async () => {
    const events = [{ hang: true }, {}, { crash: true }, {}]
    const { results, records } = await run(
      { timeoutMs: 300, event: ({ index }: { index: number }) => events[index] },
      [{ invocations: 4 }],
    )
    expect(results).toMatchObject({
      successes: 2,
      failuresByCode: { TimeoutError: 1, EnvironmentExited: 1 },
      environmentsStarted: 3,
      environmentsRecycled: 2,
      coldStarts: 3,
    })
    expect(records.map((r) => r.coldStart)).toEqual([true, true, false, true])
    expect(records[0]!.timedOut).toBe(true)
  })

  test('a module whose init fails counts InitError for each invocation', async () => {
    const results = await runFleet({
      module: fixture('exits-during-init.mjs'),
      profile: [{ invocations: 2 }],
    })
    expect(results).toMatchObject({ failures: 2, failuresByCode: { InitError: 2 }, environmentsRecycled: 0 })
  })

  test('samplers produce a time series from the start to the end of the run', async () => {
    const results = await runFleet({
      module,
      sampleEveryMs: 20,
      samplers: {
        environments: (state) => state.environments,
        constant: async () => 7,
        broken: () => {
          throw new Error('sampler failed')
        },
      },
      profile: [{ concurrency: 3, invocations: 6 }, { pauseMs: 100 }],
    })
    const { samples } = results
    expect(samples.length).toBeGreaterThanOrEqual(2)
    expect(samples[0]!.values).toEqual({ environments: 0, constant: 7, broken: null })
    expect(samples.at(-1)!.values).toEqual({ environments: 3, constant: 7, broken: null })
    const times = samples.map((s) => s.t)
    expect(times).toEqual([...times].sort((a, b) => a - b))
    expect(samples.every((s) => s.values.constant === 7)).toBe(true)
  })

  test('progress is reported per phase, and phase hooks run around each phase', async () => {
    const progress: FleetProgress[] = []
    const hooks: string[] = []
    await runFleet({
      module,
      event: ({ index }) => (index === 1 ? { fail: 'code' } : {}),
      onProgress: (p) => progress.push(p),
      beforePhase: ({ index }) => {
        hooks.push(`before ${index}`)
      },
      afterPhase: ({ index, result }) => {
        hooks.push(`after ${index}: ${result?.invocations}`)
      },
      profile: [{ name: 'burst', concurrency: 2, invocations: 4 }, { pauseMs: 1 }],
    })
    expect(hooks).toEqual(['before 0', 'after 0: 4', 'before 1', 'after 1: 0'])
    expect(progress.map((p) => p.done)).toEqual([0, 1, 2, 3, 4])
    expect(progress.at(-1)).toEqual({ phase: 0, name: 'burst', done: 4, total: 4, failures: 1 })
  })

  test('keepEnvironments leaves them warm for another run; close() kills them', async () => {
    const fleet = new Fleet({ module, keepEnvironments: true })
    try {
      expect((await fleet.run([{ concurrency: 2, invocations: 2 }])).coldStarts).toBe(2)
      const kept = fleet.environments
      expect(kept.map((e) => e.alive)).toEqual([true, true])
      expect(fleet.state).toMatchObject({ environments: 2, idle: 2, busy: 0, inFlight: 0 })
      const again = await fleet.run([{ concurrency: 2, invocations: 4 }])
      expect(again).toMatchObject({ coldStarts: 0, environmentsStarted: 0, successes: 4 })
      expect(fleet.reap(1)).toBe(2)
      await fleet.close()
      expect([...kept, ...fleet.abandonedEnvironments].some((e) => e.alive)).toBe(false)
      await expect(fleet.run([{ invocations: 1 }])).rejects.toThrow('after close')
    } finally {
      await fleet.close()
    }
  })

  test('options and profiles are validated with a TypeError naming the culprit', async () => {
    expect(() => new Fleet({ module: fixture('missing.mjs') })).toThrow(
      /module .*missing\.mjs does not exist/,
    )
    expect(() => new Fleet({ module, maxEnvironments: 0 })).toThrow(TypeError)
    expect(() => new Fleet({ module, perEnvironmentConcurrency: 1.5 })).toThrow('perEnvironmentConcurrency')
    await expect(runFleet({ module, profile: [{ invocations: 1, reap: 2 }] })).rejects.toThrow(
      'phase 0: reap',
    )
  })
})
