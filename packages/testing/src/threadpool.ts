import { execFile, execFileSync } from 'node:child_process'
import { lookup } from 'node:dns'
import { closeSync, mkdtempSync, open, openSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/**
 * Takes one of libuv's threadpool threads and keeps it until `release()`: an `open` of a FIFO for
 * reading waits in the pool until a writer comes. In a process started with UV_THREADPOOL_SIZE=1,
 * everything queued after it on the pool (dns.lookup's getaddrinfo, fs, crypto) waits too: what
 * Lambda Managed Instances' runtime workers do to the pool while they wait for events.
 *
 * @example
 * const pool = blockThreadpool()
 * dns.lookup('localhost', done) // waits
 * await pool.release()          // now it runs
 */
export const blockThreadpool = (): { release(): Promise<void> } => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mdd-fifo-'))
  const fifo = path.join(dir, 'pool')
  execFileSync('mkfifo', [fifo])
  const reader = new Promise<number>((resolve, reject) =>
    open(fifo, 'r', (error, fd) => (error ? reject(error) : resolve(fd))),
  )
  return {
    release: async () => {
      // The reader is waiting in the pool, so this open for writing completes at once.
      const writer = openSync(fifo, 'w')
      closeSync(writer)
      closeSync(await reader)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** What a fixture run by `runWithBlockedThreadpool` printed. */
export interface BlockedRunOutcome {
  ok: boolean
  value?: unknown
  error?: string
  /** Whether a `dns.lookup` queued before the run was answered before it finished (it must not be). */
  lookupAnsweredFirst: boolean
}

/**
 * Fixture side: blocks the threadpool, queues a `dns.lookup(host)` behind it, runs `run`, prints
 * a `BlockedRunOutcome` as JSON, releases the pool and exits.
 */
export const reportWithBlockedThreadpool = async (
  host: string,
  run: () => Promise<unknown>,
): Promise<never> => {
  const pool = blockThreadpool()
  let lookupAnswered = false
  lookup(host, () => {
    lookupAnswered = true
  })
  const outcome = await run().then(
    (value) => ({ ok: true, value }),
    (error: Error) => ({ ok: false, error: `${error.name}: ${error.message}` }),
  )
  console.log(JSON.stringify({ ...outcome, lookupAnsweredFirst: lookupAnswered }))
  await pool.release()
  process.exit(0)
}

/**
 * Test side: runs a fixture that calls `reportWithBlockedThreadpool` in a Node process with one
 * threadpool thread (UV_THREADPOOL_SIZE=1) under Managed Instances (AWS_LAMBDA_MAX_CONCURRENCY).
 */
export const runWithBlockedThreadpool = (
  fixture: string,
  env: Record<string, string>,
): Promise<BlockedRunOutcome> =>
  new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [fixture],
      {
        cwd: path.dirname(fixture),
        env: { ...process.env, UV_THREADPOOL_SIZE: '1', AWS_LAMBDA_MAX_CONCURRENCY: '8', ...env },
      },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`${error.message}\n${stderr}`))
          : resolve(JSON.parse(stdout) as BlockedRunOutcome),
    ),
  )
