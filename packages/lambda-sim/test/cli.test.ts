import { spawn } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, test } from '@jest/globals'
import { parseCliArgs, UsageError } from '../src/cli-args.js'
import { forgetDirectory, trackDirectory } from '../src/index.js'

const cli = path.resolve('packages/lambda-sim/dist/cli.js')
const handler = path.resolve('packages/lambda-sim/test/fixtures/fleet-handler.mjs')

const runCli = (args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })

describe('lambda-sim CLI', () => {
  test('runs a fixture and prints JSON results', async () => {
    const { code, stdout, stderr } = await runCli([
      handler,
      '--concurrency',
      '3',
      '--invocations',
      '9',
      '--max-envs',
      '2',
      '--event',
      '{"fail":"code","log":"a line from the handler"}',
      '--json',
    ])
    expect(code).toBe(0)
    // What the handler printed went to stderr, so stdout is the JSON alone.
    expect(stderr).toContain('a line from the handler')
    const results = JSON.parse(stdout)
    expect(results).toMatchObject({
      invocations: 9,
      failures: 9,
      failuresByCode: { E_CODE: 9 },
      environmentsStarted: 2,
      peakEnvironments: 2,
    })
    expect(results.latencyMs).toEqual(
      expect.objectContaining({ p50: expect.any(Number), p99: expect.any(Number), max: expect.any(Number) }),
    )
  })

  test('runs a profile file and prints the table', async () => {
    const dir = trackDirectory(await mkdtemp(path.join(tmpdir(), 'lambda-sim-cli-')))
    try {
      const profile = path.join(dir, 'profile.json')
      await writeFile(
        profile,
        JSON.stringify({
          phases: [
            { name: 'burst', concurrency: 2, invocations: 4 },
            { reap: 0.5 },
            { concurrency: 2, invocations: 2 },
          ],
        }),
      )
      const { code, stdout } = await runCli([handler, '--profile', profile, '--timeout', '2000'])
      expect(code).toBe(0)
      expect(stdout).toMatch(/^phase\s+invocations/)
      expect(stdout).toMatch(/^0 burst\s+4\s+4\s+0/m)
      expect(stdout).toMatch(/^total\s+6\s+6\s+0/m)
      expect(stdout).toContain('environments: 3 started, 1 abandoned')
    } finally {
      forgetDirectory(dir)
    }
  })

  test('a bad command line exits 2 with the usage', async () => {
    const { code, stderr } = await runCli([handler, '--concurrency', 'many'])
    expect(code).toBe(2)
    expect(stderr).toContain('--concurrency must be a whole number')
    expect(stderr).toContain('usage: lambda-sim')
  })
})

describe('parseCliArgs', () => {
  test('maps flags to fleet options and a one-phase profile', () => {
    expect(
      parseCliArgs([
        'h.mjs',
        '--export',
        'other',
        '--timeout',
        '500',
        '--max-envs',
        '7',
        '--per-env',
        '4',
        '--concurrency',
        '5',
        '--event',
        '{"id":1}',
        '--env',
        'A=1',
        '--env',
        'B=x=y',
        '--no-freeze',
      ]),
    ).toEqual({
      help: false,
      json: false,
      fleet: {
        module: 'h.mjs',
        exportName: 'other',
        timeoutMs: 500,
        maxEnvironments: 7,
        perEnvironmentConcurrency: 4,
        freezeBetweenInvocations: false,
        env: { A: '1', B: 'x=y' },
        event: { id: 1 },
      },
      profile: [{ concurrency: 5, invocations: 5 }],
    })
    expect(parseCliArgs(['h.mjs', '--profile', 'p.json', '--json'])).toEqual({
      help: false,
      json: true,
      fleet: { module: 'h.mjs' },
      profilePath: 'p.json',
    })
    expect(parseCliArgs(['--help']).help).toBe(true)
  })

  test('rejects what it cannot run', () => {
    expect(() => parseCliArgs([])).toThrow(UsageError)
    expect(() => parseCliArgs(['a.mjs', 'b.mjs'])).toThrow('one handler module')
    expect(() => parseCliArgs(['h.mjs', '--profile', 'p.json', '--concurrency', '2'])).toThrow('exclusive')
    expect(() => parseCliArgs(['h.mjs', '--event', '{nope'])).toThrow('--event is not JSON')
    expect(() => parseCliArgs(['h.mjs', '--env', 'novalue'])).toThrow('KEY=VALUE')
    expect(() => parseCliArgs(['h.mjs', '--unknown'])).toThrow(UsageError)
  })
})
