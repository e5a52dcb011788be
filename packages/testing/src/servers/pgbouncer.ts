import { execFile } from 'node:child_process'
import { chownSync, writeFileSync } from 'node:fs'
import { freePort } from '@middy-downstream/lambda-sim'
import { findBinary } from './binaries.js'
import type { PostgresServer } from './postgres.js'
import { type LaunchSpec, ServerProcess } from './server-process.js'

export interface PgBouncerOptions {
  /** Logins pgbouncer accepts, and passes on to the server. */
  users: Record<string, string>
  /** `transaction` (RDS Proxy-like multiplexing, the default) or `session`. */
  poolMode?: 'transaction' | 'session'
  /** Server connections per user and database. */
  poolSize?: number
}

const userId = (flag: string) =>
  new Promise<number>((resolve, reject) =>
    execFile('id', [flag, 'postgres'], (error, out) => (error ? reject(error) : resolve(Number(out.trim())))),
  )

/**
 * A throwaway pgbouncer in front of a `PostgresServer`: the pooler many PostgreSQL users put in
 * front of Lambda, standing in for RDS Proxy. It runs as the `postgres` user (it refuses root).
 *
 * @example
 * const bouncer = await PgBouncer.start(postgres, { users: { app: 'app-pw' } })
 * new pg.Client({ host: bouncer.host, port: bouncer.port, user: 'app', password: 'app-pw', database: 'postgres' })
 */
export class PgBouncer extends ServerProcess {
  private constructor(
    port: number,
    dir: string,
    private readonly runAs: { uid: number; gid: number } | undefined,
  ) {
    super(port, dir)
  }

  static async start(server: PostgresServer, options: PgBouncerOptions): Promise<PgBouncer> {
    const dir = ServerProcess.makeDirectory('pgbouncer')
    const port = await freePort()
    const root = process.getuid?.() === 0
    const runAs = root ? { uid: await userId('-u'), gid: await userId('-g') } : undefined
    const users = Object.entries(options.users)
      .map(([user, password]) => `"${user}" "${password}"`)
      .join('\n')
    writeFileSync(`${dir}/users.txt`, `${users}\n`)
    writeFileSync(
      `${dir}/pgbouncer.ini`,
      [
        '[databases]',
        `* = host=${server.host} port=${server.port}`,
        '[pgbouncer]',
        `listen_addr = 127.0.0.1`,
        `listen_port = ${port}`,
        'unix_socket_dir =',
        'auth_type = scram-sha-256',
        `auth_file = ${dir}/users.txt`,
        `pool_mode = ${options.poolMode ?? 'transaction'}`,
        `default_pool_size = ${options.poolSize ?? 5}`,
        'ignore_startup_parameters = extra_float_digits',
        `logfile = ${dir}/pgbouncer.log`,
        `pidfile = ${dir}/pgbouncer.pid`,
      ].join('\n'),
    )
    if (runAs)
      for (const file of ['', '/users.txt', '/pgbouncer.ini'])
        chownSync(`${dir}${file}`, runAs.uid, runAs.gid)
    const bouncer = new PgBouncer(port, dir, runAs)
    await bouncer.start()
    return bouncer
  }

  protected launchSpec(): LaunchSpec {
    return {
      command: findBinary('pgbouncer', 'pgbouncer'),
      args: [`${this.dir}/pgbouncer.ini`],
      options: { ...this.runAs },
    }
  }
}
