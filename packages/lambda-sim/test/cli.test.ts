import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, test } from '@jest/globals'
import { parseCliArgs, UsageError } from '../src/cli-args.js'
import { forgetDirectory, trackDirectory } from '../src/index.js'

const cli = path.resolve('packages/lambda-sim/dist/cli.js')
const handler = path.resolve('packages/lambda-sim/test/fixtures/fleet-handler.mjs')

/** The process ids whose parent is `pid` (Linux: from /proc). */
const childrenOf = (pid: number): number[] =>
  readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        // The parent id is the 2nd field after the command name, which is in parentheses.
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid
      } catch {
        return false
      }
    })
    .map(Number)

/** Whether a process exists and is not a zombie waiting for its parent to reap it. */
/** Polls until none of `pids` is alive, or `ms` passed (the caller's expectation then fails). */
const goneWithin = async (pids: number[], ms: number): Promise<void> => {
  const started = Date.now()
  while (pids.some(alive) && Date.now() - started < ms) await new Promise((r) => setTimeout(r, 20))
}

const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

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
      errorMessages: { E_CODE: 'with a code' },
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

  test("the table shows each failure code with its handler's message", async () => {
    const { code, stdout } = await runCli([handler, '--concurrency', '2', '--event', '{"fail":"code"}'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^failures by code:\n {2}E_CODE {2}2 {2}with a code$/m)
  })

  test('a bad command line exits 2 with the reason and one line pointing to --help', async () => {
    const { code, stderr } = await runCli([handler, '--concurrency', 'many'])
    expect(code).toBe(2)
    expect(stderr).toBe(
      'lambda-sim: --concurrency must be a whole number >= 1, got "many"\nsee lambda-sim --help\n',
    )
  })

  test('a mistyped flag gets a did-you-mean', async () => {
    const { code, stderr } = await runCli([handler, '--concurency', '3'])
    expect(code).toBe(2)
    expect(stderr).toBe(
      'lambda-sim: unknown option --concurency: did you mean --concurrency?\nsee lambda-sim --help\n',
    )
  })

  test('--version prints the package version', async () => {
    const { version } = JSON.parse(await readFile(path.resolve('packages/lambda-sim/package.json'), 'utf8'))
    const { code, stdout } = await runCli(['--version'])
    expect(code).toBe(0)
    expect(stdout).toBe(`${version}\n`)
  })

  test('Ctrl-C stops the CLI with 130 and kills its environments', async () => {
    const child = spawn(process.execPath, [cli, handler, '--event', '{"log":"in the handler","hang":true}'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        stdout += chunk
        if (stdout.includes('in the handler')) resolve()
      })
      child.once('exit', () => reject(new Error(`the CLI exited before the handler ran: ${stdout}`)))
    })
    const environments = childrenOf(child.pid!)
    expect(environments.length).toBeGreaterThan(0)
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    child.kill('SIGINT')
    expect(await exit).toBe(130)
    // The CLI sent SIGKILL on its way out; the kernel ends each environment when it next runs it.
    await goneWithin(environments, 5_000)
    for (const pid of environments) expect(alive(pid)).toBe(false)
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
    expect(parseCliArgs(['--version']).version).toBe(true)
  })

  test('rejects what it cannot run', () => {
    expect(() => parseCliArgs([])).toThrow(UsageError)
    expect(() => parseCliArgs(['a.mjs', 'b.mjs'])).toThrow('one handler module')
    expect(() => parseCliArgs(['h.mjs', '--profile', 'p.json', '--concurrency', '2'])).toThrow('exclusive')
    expect(() => parseCliArgs(['h.mjs', '--event', '{nope'])).toThrow('--event is not JSON')
    expect(() => parseCliArgs(['h.mjs', '--env', 'novalue'])).toThrow('KEY=VALUE')
    expect(() => parseCliArgs(['h.mjs', '--unknown'])).toThrow(UsageError)
    expect(() => parseCliArgs(['h.mjs', '--unknown'])).toThrow(/^unknown option --unknown$/)
    expect(() => parseCliArgs(['h.mjs', '--max-env', '3'])).toThrow('did you mean --max-envs?')
    expect(() => parseCliArgs(['h.mjs', '--jsn'])).toThrow('did you mean --json?')
    expect(() => parseCliArgs(['h.mjs', '--invoc=3'])).toThrow('did you mean --invocations?')
  })
})
