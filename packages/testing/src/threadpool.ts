import { execFileSync } from 'node:child_process'
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
