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
  const scratch = trackDirectory(mkdtempSync(path.join(os.tmpdir(), 'mdd-mariadb-scratch-')))
  execFileSync(
    findBinary('mariadb-install-db', 'mariadb-server'),
    [
      '--no-defaults',
      `--datadir=${dir}`,
      '--user=root',
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      // Its own temp dir: two installs sharing /tmp collide on temporary table names.
      `--tmpdir=${scratch}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
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
        `--tmpdir=${this.dir}`,
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

  private admin?: mysql.Connection

  /**
   * Runs one statement on the test's admin connection: root, kept open (so polling adds no
   * connections to the server's counters), reopened when the server dropped it. Root may use the
   * one connection MariaDB keeps beyond max_connections for SUPER, so it works on a full server.
   */
  async sql<T = unknown>(statement: string, values?: unknown[]): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.admin ??= await this.openAdmin()
        const [rows] = await this.admin.query(statement, values)
        return rows as T
      } catch (error) {
        const fatal = (error as { fatal?: boolean }).fatal === true
        this.admin?.destroy()
        this.admin = undefined
        if (!fatal || attempt > 1) throw error
      }
    }
  }

  private async openAdmin(): Promise<mysql.Connection> {
    const connection = await mysql.createConnection({ ...this.config, database: undefined })
    connection.on('error', () => {})
    // wait_timeout may be tiny in a test; the admin connection must not be the one it closes.
    await connection.query('SET SESSION wait_timeout = 28800')
    return connection
  }

  override async stop(graceMs?: number): Promise<void> {
    this.admin?.destroy()
    this.admin = undefined
    await super.stop(graceMs)
  }

  /** A `SHOW GLOBAL STATUS` counter such as `Connections`, `Threads_connected` or `Questions`. */
  async status(name: string): Promise<number> {
    const rows = await this.sql<{ Value: string }[]>('SHOW GLOBAL STATUS LIKE ?', [name])
    return Number(rows[0]?.Value)
  }
}
