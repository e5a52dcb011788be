import { freePort, waitForPort } from '@middy-downstream/lambda-sim'
import { findBinary } from './binaries.js'
import { type LaunchSpec, ServerProcess } from './server-process.js'

export interface RedisOptions {
  /** Seconds after which the server closes an idle client (0 = never). */
  timeout?: number
  /** Password for the default user; `setPassword` changes it at run time. */
  requirepass?: string
  /** Extra `--name value` arguments, e.g. `['--cluster-enabled', 'yes']`. */
  extraArgs?: string[]
  /** Use this port instead of a free one. */
  port?: number
}

/**
 * A throwaway Redis on a private port, keeping nothing on disk.
 *
 * @example
 * const redis = await RedisServer.start({ timeout: 1 })
 * await redis.info('total_connections_received')
 */
export class RedisServer extends ServerProcess {
  private constructor(
    port: number,
    dir: string,
    private options: RedisOptions,
  ) {
    super(port, dir)
  }

  static async start(options: RedisOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(
      options.port ?? (await freePort()),
      ServerProcess.makeDirectory('redis'),
      options,
    )
    await server.start()
    return server
  }

  get password(): string | undefined {
    return this.options.requirepass
  }

  get url(): string {
    return `redis://${this.host}:${this.port}`
  }

  protected launchSpec(): LaunchSpec {
    const { timeout, requirepass, extraArgs = [] } = this.options
    return {
      command: findBinary('redis-server', 'redis-server'),
      args: [
        '--port',
        String(this.port),
        '--bind',
        this.host,
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
        ...(timeout === undefined ? [] : ['--timeout', String(timeout)]),
        ...(requirepass === undefined ? [] : ['--requirepass', requirepass]),
        ...extraArgs,
      ],
      ready: () => waitForPort(this.port),
    }
  }

  /** Runs a command with redis-cli (no client library, so no connection is kept). */
  async cli(...args: string[]): Promise<string> {
    const { execFile } = await import('node:child_process')
    const auth = this.options.requirepass ? ['--no-auth-warning', '-a', this.options.requirepass] : []
    return new Promise((resolve, reject) =>
      execFile(
        findBinary('redis-cli', 'redis-tools'),
        ['-h', this.host, '-p', String(this.port), ...auth, ...args],
        (error, stdout) => (error ? reject(error) : resolve(stdout.trim())),
      ),
    )
  }

  /** A numeric field of `INFO`, e.g. `total_connections_received` or `connected_clients`. */
  async info(field: string): Promise<number> {
    const text = await this.cli('INFO')
    const line = text.split(/\r?\n/).find((l) => l.startsWith(`${field}:`))
    if (!line) throw new Error(`INFO has no field ${field}`)
    return Number(line.slice(field.length + 1))
  }

  /** Changes the password at run time (rotation); later restarts keep the new one. */
  async setPassword(password: string): Promise<void> {
    await this.cli('CONFIG', 'SET', 'requirepass', password)
    this.options = { ...this.options, requirepass: password }
  }
}
