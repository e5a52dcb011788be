import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  exited,
  exitOnSignals,
  forgetDirectory,
  trackChild,
  trackDirectory,
  waitForPort,
} from '@middy-downstream/lambda-sim'

export interface LaunchSpec {
  command: string
  args: string[]
  options?: SpawnOptions
  /** Resolves when the server accepts work; defaults to "the port accepts TCP". */
  ready?: () => Promise<void>
}

/**
 * One throwaway server process on a private port: start, stop, restart on the same port with the
 * same data, and freeze/thaw with SIGSTOP/SIGCONT. A frozen server's kernel still accepts TCP
 * connections; it just never answers them.
 */
export abstract class ServerProcess {
  readonly host = '127.0.0.1'
  protected child?: ChildProcess
  private stderrTail = ''

  protected constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  protected static makeDirectory(prefix: string): string {
    return trackDirectory(mkdtempSync(path.join(os.tmpdir(), `mdd-${prefix}-`)))
  }

  /** How to launch the server, computed on each start (a restart reuses port and data). */
  protected abstract launchSpec(): LaunchSpec

  /**
   * The signal that stops the server and drops its clients. SIGTERM for most; PostgreSQL reads it
   * as a "smart" shutdown that waits for every client to leave, so it overrides this.
   */
  protected readonly stopSignal: NodeJS.Signals = 'SIGTERM'

  get pid(): number | undefined {
    return this.child?.pid
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  async start(): Promise<void> {
    if (this.running) return
    const spec = this.launchSpec()
    // A test run stopped with Ctrl-C (or a CI timeout's SIGTERM) must not leave servers behind.
    exitOnSignals()
    const child = spawn(spec.command, spec.args, { stdio: ['ignore', 'ignore', 'pipe'], ...spec.options })
    trackChild(child)
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000)
    })
    this.child = child
    const failedEarly = exited(child).then(() => {
      throw new Error(`${spec.command} exited during start-up (code ${child.exitCode}): ${this.stderrTail}`)
    })
    await Promise.race([spec.ready ? spec.ready() : waitForPort(this.port), failedEarly])
    failedEarly.catch(() => {})
  }

  /** `stopSignal`, then SIGKILL if the server has not exited within `graceMs`; resolves once it is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child
    if (!child || !this.running) return
    child.kill('SIGCONT')
    child.kill(this.stopSignal)
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    await exited(child)
    clearTimeout(timer)
  }

  /** Stops and starts again on the same port with the same data: every open connection is dropped. */
  async restart(): Promise<void> {
    await this.stop()
    await this.start()
  }

  /** SIGSTOP: the process stops answering while its kernel keeps accepting connections. */
  freeze(): void {
    this.child?.kill('SIGSTOP')
  }

  thaw(): void {
    this.child?.kill('SIGCONT')
  }

  /** Stops the server and deletes its data directory. */
  async dispose(): Promise<void> {
    await this.stop()
    forgetDirectory(this.dir)
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose()
  }
}
