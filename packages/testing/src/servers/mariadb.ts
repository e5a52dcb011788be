import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { freePort, trackDirectory } from '@middy-downstream/lambda-sim'
import mysql from 'mysql2/promise'
import { findBinary } from './binaries.js'
import { type LaunchSpec, ServerProcess } from './server-process.js'

export interface MariaDbOptions {
  /** Server-wide connection limit; MariaDB will not go below 10. */
  maxConnections?: number
  /** Seconds an idle connection may sleep before the server closes it. */
  waitTimeout?: number
  /** Extra `--name=value` server options. */
  extraArgs?: string[]
}

let templateDir: string | undefined

/** `mariadb-install-db` takes a couple of seconds: run it once per process and copy the result. */
const dataTemplate = (): string => {
  if (templateDir) return templateDir
  const dir = trackDirectory(mkdtempSync(path.join(os.tmpdir(), 'mdd-mariadb-template-')))
  execFileSync(
    findBinary('mariadb-install-db', 'mariadb-server'),
    [
      '--no-defaults',
      `--datadir=${dir}`,
      '--user=root',
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ],
    { stdio: 'ignore' },
  )
  templateDir = dir
  return dir
}

/**
 * A throwaway MariaDB on a private port. Root has an empty password over TCP; database `test` exists.
 *
 * @example
 * const db = await MariaDbServer.start({ maxConnections: 10, waitTimeout: 2 })
 * await db.sql('SHOW GLOBAL STATUS LIKE "Connections"')
 * await db.dispose()
 */
export class MariaDbServer extends ServerProcess {
  readonly user = 'root'
  readonly password = ''
  readonly database = 'test'

  private constructor(
    port: number,
    dir: string,
    private readonly options: MariaDbOptions,
  ) {
    super(port, dir)
  }

  static async start(options: MariaDbOptions = {}): Promise<MariaDbServer> {
    const dir = ServerProcess.makeDirectory('mariadb')
    cpSync(dataTemplate(), dir, { recursive: true })
    const server = new MariaDbServer(await freePort(), dir, options)
    await server.start()
    await server.sql('CREATE DATABASE IF NOT EXISTS test')
    return server
  }

  protected launchSpec(): LaunchSpec {
    const { maxConnections, waitTimeout, extraArgs = [] } = this.options
    return {
      command: findBinary('mariadbd', 'mariadb-server'),
      args: [
        '--no-defaults',
        `--datadir=${this.dir}`,
        `--socket=${this.dir}/s.sock`,
        `--pid-file=${this.dir}/mariadbd.pid`,
        `--port=${this.port}`,
        `--bind-address=${this.host}`,
        '--user=root',
        '--skip-log-bin',
        '--skip-name-resolve',
        '--innodb-buffer-pool-size=16M',
        '--innodb-log-file-size=8M',
        ...(maxConnections === undefined ? [] : [`--max-connections=${maxConnections}`]),
        ...(waitTimeout === undefined ? [] : [`--wait-timeout=${waitTimeout}`]),
        ...extraArgs,
      ],
    }
  }

  /** Connection options for mysql2 (and for the middleware's `config`). */
  get config(): { host: string; port: number; user: string; password: string; database: string } {
    return {
      host: this.host,
      port: this.port,
      user: this.user,
      password: this.password,
      database: this.database,
    }
  }

  /** Runs one statement on a short-lived admin connection (counted by the server like any other). */
  async sql<T = unknown>(statement: string, values?: unknown[]): Promise<T> {
    const connection = await mysql.createConnection({ ...this.config, database: undefined })
    try {
      const [rows] = await connection.query(statement, values)
      return rows as T
    } finally {
      await connection.end()
    }
  }

  /** A `SHOW GLOBAL STATUS` counter such as `Connections`, `Threads_connected` or `Questions`. */
  async status(name: string): Promise<number> {
    const rows = await this.sql<{ Value: string }[]>('SHOW GLOBAL STATUS LIKE ?', [name])
    return Number(rows[0]?.Value)
  }
}
