import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { childProcess, crypto, fs, os } from './builtins.js'
import { exited, trackChild } from './cleanup.js'
import type { EnvironmentMessage, HostMessage, ReplyMessage } from './protocol.js'

export interface EnvironmentOptions {
  /** Absolute path of the handler module (ESM or CommonJS). */
  module: string
  /**
   * The exported handler's name.
   * @default `'handler'`
   */
  exportName?: string
  /**
   * Function timeout for each invocation, in ms.
   * @default `3000`
   */
  timeoutMs?: number
  /**
   * The function name the handler sees on `context.functionName` (and in the ARN).
   * @default `'lambda-sim'`
   */
  functionName?: string
  /**
   * Extra environment variables for the process (merged over the host's).
   * @default `{}`
   */
  env?: Record<string, string>
  /**
   * Freeze the process with SIGSTOP whenever no invocation is in flight, as Lambda does.
   * @default `true`
   */
  freezeBetweenInvocations?: boolean
  /**
   * Where the handler's stdout and stderr go: the host's own (`inherit`), both to the host's stderr
   * (`stderr`, to keep the host's stdout clean, e.g. for JSON), or nowhere (`ignore`).
   * @default `'inherit'`
   */
  output?: 'inherit' | 'stderr' | 'ignore'
  /**
   * Lambda Managed Instances, as the Node.js runtime runs them: `workers` worker threads (default
   * `os.availableParallelism()`, as the runtime sizes it from the vCPUs), each loading its own copy
   * of the handler module and running up to `maxConcurrency / workers` invocations at once; the
   * timeout is not enforced (the remaining time goes to zero and below); never frozen unless
   * `freezeBetweenInvocations` says so; libuv's default 4 threadpool threads.
   * @default none (classic: one invocation at a time, frozen between invocations)
   */
  managedInstances?: { maxConcurrency: number; workers?: number }
}

/** The process environment: the host's, the caller's over it, and the Managed Instances variables. */
const processEnv = (options: EnvironmentOptions): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env }
  const mi = options.managedInstances
  if (!mi) return env
  const workers = mi.workers ?? os().availableParallelism()
  if (options.env?.UV_THREADPOOL_SIZE === undefined) delete env.UV_THREADPOOL_SIZE
  return {
    ...env,
    LAMBDA_SIM_WORKERS: String(workers),
    AWS_LAMBDA_MAX_CONCURRENCY: String(mi.maxConcurrency),
    AWS_LAMBDA_NODEJS_WORKER_COUNT: String(workers),
  }
}

const stdio = (output: EnvironmentOptions['output']) =>
  output === 'stderr'
    ? (['ignore', 2, 2, 'ipc'] as const)
    : output === 'ignore'
      ? (['ignore', 'ignore', 'ignore', 'ipc'] as const)
      : (['ignore', 'inherit', 'inherit', 'ipc'] as const)

export interface InvocationResult {
  ok: boolean
  value?: unknown
  error?: ReplyMessage['error']
  timedOut?: boolean
  durationMs: number
}

// Under Jest the sources run from src/ while the child needs the compiled runner in dist/; built,
// this code sits in one of dist/'s bundles (an entry or a shared chunk), next to the runner.
const runnerPath = (): string => {
  const here = fileURLToPath(import.meta.url)
  const compiled = here.replace(/\/(src|dist)\/[^/]+\.[tj]s$/, '/dist/environment-runner.js')
  if (!fs().existsSync(compiled))
    throw new Error(`lambda-sim is not built: ${compiled} is missing (run pnpm build)`)
  return compiled
}

/**
 * One simulated Lambda execution environment: a child process that loads the handler module once
 * and serves invocations, frozen with SIGSTOP between them and thawed with SIGCONT right before
 * the next one, the way Lambda does it.
 *
 * @example
 * const env = await LambdaEnvironment.start({ module: '/abs/handler.mjs', timeoutMs: 2000 })
 * const result = await env.invoke({ id: 1 })
 * await env.close()
 */
export class LambdaEnvironment {
  readonly initMs: number
  invocations = 0
  private nextId = 1
  private readonly pending = new Map<number, (reply: ReplyMessage) => void>()
  private isFrozen = false
  private abandoned = false

  private constructor(
    private readonly child: ChildProcess,
    private readonly options: EnvironmentOptions,
    initMs: number,
  ) {
    this.initMs = initMs
    child.on('message', (message: EnvironmentMessage) => {
      if (message.type !== 'reply') return
      const resolve = this.pending.get(message.id)
      this.pending.delete(message.id)
      resolve?.(message)
      this.freezeWhenIdle()
    })
    child.once('exit', (code, signal) => {
      for (const [id, resolve] of this.pending) {
        resolve({
          type: 'reply',
          id,
          ok: false,
          error: {
            name: 'EnvironmentExited',
            message: `environment exited (code ${code}, signal ${signal})`,
          },
          durationMs: 0,
        })
      }
      this.pending.clear()
    })
  }

  /** Starts the process and waits for the handler module to load (the cold start). */
  static async start(options: EnvironmentOptions): Promise<LambdaEnvironment> {
    const child = trackChild(
      childProcess().fork(runnerPath(), [options.module, options.exportName ?? 'handler'], {
        env: processEnv(options),
        // As the Lambda runtime does, an unhandled rejection ends the environment (or its worker).
        execArgv: [...process.execArgv, '--unhandled-rejections=strict'],
        stdio: [...stdio(options.output)],
        serialization: 'advanced',
      }),
    )
    const initMs = await new Promise<number>((resolve, reject) => {
      let initError = ''
      child.once('message', (message: EnvironmentMessage) => {
        if (message.type === 'ready') resolve(message.initMs)
        if (message.type === 'init-error') initError = `: ${message.error.name}: ${message.error.message}`
      })
      child.once('exit', (code) =>
        reject(new Error(`environment for ${options.module} exited during init (code ${code})${initError}`)),
      )
    })
    const environment = new LambdaEnvironment(child, options, initMs)
    environment.freezeWhenIdle()
    return environment
  }

  get pid(): number {
    return this.child.pid!
  }

  get frozen(): boolean {
    return this.isFrozen
  }

  get inFlight(): number {
    return this.pending.size
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** Delivers one invocation; several may be in flight at once (Lambda Managed Instances). */
  invoke(event: unknown = {}, options: { timeoutMs?: number } = {}): Promise<InvocationResult> {
    this.invocations += 1
    return this.send({
      type: 'invoke',
      id: this.nextId++,
      event,
      timeoutMs: options.timeoutMs ?? this.options.timeoutMs ?? 3000,
      functionName: this.options.functionName ?? 'lambda-sim',
      awsRequestId: crypto().randomUUID(),
    })
  }

  /**
   * Calls another export of the handler module (e.g. one that reports module-scope state). In
   * Managed Instances mode every worker's copy is called: the value is the array of their values.
   */
  async call<T = unknown>(exportName: string, ...args: unknown[]): Promise<T> {
    const reply = await this.send({ type: 'call', id: this.nextId++, exportName, args })
    if (!reply.ok) throw new Error(`${exportName}() failed in the environment: ${reply.error?.message}`)
    return reply.value as T
  }

  /** SIGSTOP: no timers fire and no socket is read until `thaw`. */
  freeze(): void {
    if (!this.isFrozen && this.alive) {
      this.child.kill('SIGSTOP')
      this.isFrozen = true
    }
  }

  thaw(): void {
    if (this.isFrozen && this.alive && !this.abandoned) {
      this.child.kill('SIGCONT')
      this.isFrozen = false
    }
  }

  /**
   * Leaves the environment frozen for good, never closed, as a reclaimed Lambda environment
   * leaves its sockets behind. The process is killed only when the host exits.
   */
  abandon(): void {
    this.freeze()
    this.abandoned = true
  }

  /** Kills the process (SIGKILL works on a frozen process). */
  async close(): Promise<void> {
    if (!this.alive) return
    this.child.kill('SIGKILL')
    await exited(this.child)
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  private send(message: HostMessage): Promise<ReplyMessage> {
    if (!this.alive) return Promise.reject(new Error('the environment has exited'))
    if (this.abandoned) return Promise.reject(new Error('the environment was abandoned'))
    this.thaw()
    return new Promise((resolve) => {
      this.pending.set(message.id, resolve)
      // A process that exits while the message is written (EPIPE) fails this invocation, not the host.
      this.child.send(message, (error) => {
        if (!error || !this.pending.delete(message.id)) return
        resolve({
          type: 'reply',
          id: message.id,
          ok: false,
          error: { name: 'EnvironmentExited', message: `could not reach the environment: ${error.message}` },
          durationMs: 0,
        })
      })
    })
  }

  private freezeWhenIdle(): void {
    const freezes = this.options.freezeBetweenInvocations ?? this.options.managedInstances === undefined
    if (freezes && this.pending.size === 0) this.freeze()
  }
}
