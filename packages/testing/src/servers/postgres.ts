import { execFile } from 'node:child_process'
import { chmodSync, chownSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { freePort } from '@middy-downstream/lambda-sim'
import { findBinary, postgresBinDirs } from './binaries.js'
import { type LaunchSpec, ServerProcess } from './server-process.js'

export interface PostgresOptions {
  maxConnections?: number
  /**
   * Authentication over TCP: `trust` (default) or `scram-sha-256` (passwords checked, as on RDS).
   * The harness itself always connects through the Unix socket, which stays `trust`.
   */
  auth?: 'trust' | 'scram-sha-256'
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string | number>
  /**
   * TLS with this key and certificate (e.g. `makeSelfSignedCertificate()`'s paths); `require`:
   * TCP connections without TLS are refused (`hostssl` only, as `rds.force_ssl = 1`).
   */
  tls?: { keyPath: string; certPath: string; require?: boolean }
}

/** PostgreSQL refuses to run as root: run it as the `postgres` user Debian's package creates. */
const postgresUser = async (): Promise<{ uid: number; gid: number } | undefined> => {
  if (process.getuid?.() !== 0) return undefined
  const id = (flag: string) =>
    new Promise<number>((resolve, reject) =>
      execFile('id', [flag, 'postgres'], (error, out) =>
        error ? reject(error) : resolve(Number(out.trim())),
      ),
    )
  return { uid: await id('-u'), gid: await id('-g') }
}

/**
 * Copies the key and certificate into the server's directory, where the server's user can read
 * them: PostgreSQL refuses a key file that others can read. `require` leaves only `hostssl` lines.
 */
const installTls = (
  dir: string,
  tls: NonNullable<PostgresOptions['tls']>,
  runAs: { uid: number; gid: number } | undefined,
): void => {
  for (const [from, to] of [
    [tls.keyPath, 'server.key'],
    [tls.certPath, 'server.crt'],
  ] as const) {
    copyFileSync(from, `${dir}/${to}`)
    chmodSync(`${dir}/${to}`, 0o600)
    if (runAs) chownSync(`${dir}/${to}`, runAs.uid, runAs.gid)
  }
  if (tls.require) {
    const hba = `${dir}/data/pg_hba.conf`
    writeFileSync(hba, readFileSync(hba, 'utf8').replace(/^host(\s)/gm, 'hostssl$1'))
  }
}

const run = (command: string, args: string[], user?: { uid: number; gid: number }) =>
  new Promise<string>((resolve, reject) =>
    execFile(command, args, { ...user }, (error, stdout, stderr) =>
      error ? reject(new Error(`${command} failed: ${stderr || error.message}`)) : resolve(stdout),
    ),
  )

/**
 * A throwaway PostgreSQL on a private port with trust authentication for user `postgres`.
 *
 * @example
 * const pg = await PostgresServer.start({ maxConnections: 20 })
 * await pg.psql('SELECT 1')
 */
export class PostgresServer extends ServerProcess {
  readonly user = 'postgres'
  readonly database = 'postgres'
  // SIGTERM is a "smart" shutdown that waits for every client to disconnect; a client that stays
  // (a warm environment's connection) made stop() fall through to SIGKILL, which leaves the
  // backends holding shared memory and the next start failing. SIGINT is the "fast" shutdown:
  // clients are dropped, as a real server restart drops them.
  protected override readonly stopSignal = 'SIGINT'

  private constructor(
    port: number,
    dir: string,
    private readonly options: PostgresOptions,
    private readonly runAs?: { uid: number; gid: number },
  ) {
    super(port, dir)
  }

  static async start(options: PostgresOptions = {}): Promise<PostgresServer> {
    const dir = ServerProcess.makeDirectory('postgres')
    const runAs = await postgresUser()
    if (runAs) chownSync(dir, runAs.uid, runAs.gid)
    const initdb = findBinary('initdb', 'postgresql', postgresBinDirs())
    await run(
      initdb,
      [
        '-D',
        `${dir}/data`,
        '--auth-local=trust',
        `--auth-host=${options.auth ?? 'trust'}`,
        '-U',
        'postgres',
        '--no-sync',
        '-E',
        'UTF8',
      ],
      runAs,
    )
    if (options.tls) installTls(dir, options.tls, runAs)
    const server = new PostgresServer(await freePort(), dir, options, runAs)
    await server.start()
    return server
  }

  get url(): string {
    return `postgres://${this.user}@${this.host}:${this.port}/${this.database}`
  }

  /** `pg` client options for the superuser over TCP. */
  get config(): { host: string; port: number; user: string; database: string } {
    return { host: this.host, port: this.port, user: this.user, database: this.database }
  }

  /** Creates a login role with a password (and CONNECT, CREATE on the database), as an application has. */
  async createRole(name: string, password: string, extra = ''): Promise<void> {
    await this.psql(`CREATE ROLE "${name}" LOGIN PASSWORD '${password}' ${extra}`)
    await this.psql(`GRANT ALL ON SCHEMA public TO "${name}"`)
  }

  /** Rows of a query as objects (through psql's JSON output). */
  async rows<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    const out = await this.psql(`SELECT coalesce(json_agg(t), '[]') FROM (${sql}) t`)
    return JSON.parse(out) as T[]
  }

  protected launchSpec(): LaunchSpec {
    const settings: Record<string, string | number> = {
      listen_addresses: this.host,
      unix_socket_directories: this.dir,
      fsync: 'off',
      ...(this.options.maxConnections === undefined ? {} : { max_connections: this.options.maxConnections }),
      ...(this.options.tls
        ? { ssl: 'on', ssl_key_file: `${this.dir}/server.key`, ssl_cert_file: `${this.dir}/server.crt` }
        : {}),
      ...this.options.settings,
    }
    return {
      command: findBinary('postgres', 'postgresql', postgresBinDirs()),
      args: [
        '-D',
        `${this.dir}/data`,
        '-p',
        String(this.port),
        ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
      ],
      options: { ...this.runAs },
      ready: () => this.waitUntilAccepting(),
    }
  }

  private async waitUntilAccepting(timeoutMs = 20_000): Promise<void> {
    const isReady = findBinary('pg_isready', 'postgresql-client', postgresBinDirs())
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try {
        await run(isReady, ['-h', this.dir, '-p', String(this.port), '-U', this.user, '-q'])
        return
      } catch (error) {
        if (Date.now() > deadline) throw error
        await new Promise((r) => setTimeout(r, 50))
      }
    }
  }

  /** Runs SQL with psql and returns the unaligned, tuples-only output. */
  async psql(sql: string): Promise<string> {
    const psql = findBinary('psql', 'postgresql-client', postgresBinDirs())
    const out = await run(psql, [
      '-h',
      this.dir,
      '-p',
      String(this.port),
      '-U',
      this.user,
      '-d',
      this.database,
      '-At',
      '-c',
      sql,
    ])
    return out.trim()
  }
}
