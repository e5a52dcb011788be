import { afterAll, afterEach, beforeAll, expect, test } from '@jest/globals'
import middy from '@middy/core'
import dbConnection, {
  AuthenticationError,
  ConnectError,
  type LifecycleEvent,
  type PgConnectionContext,
  type PgConnectionOptions,
} from '@middy-downstream/db-connection/postgres'
import { fakeContext, makeSelfSignedCertificate, PostgresServer } from '@middy-downstream/testing'

// RDS with IAM authentication: a short-lived token as the password, asked for on every new
// connection, over TLS (RDS refuses IAM tokens without it; `rds.force_ssl` refuses plain TCP).
// Here a private PostgreSQL that accepts TLS only, and a role whose password is rotated the way
// tokens expire.
const certificate = makeSelfSignedCertificate()
let server: PostgresServer
let fleetCounter = 0

beforeAll(async () => {
  server = await PostgresServer.start({
    auth: 'scram-sha-256',
    tls: { keyPath: certificate.keyPath, certPath: certificate.certPath, require: true },
  })
  await server.createRole('app', 'token-1')
})
afterEach(async () => {
  // Connections of earlier tests must not survive into the next one's counts.
  await server.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'app'")
})
afterAll(() => server.dispose())

const build = (extra: Partial<PgConnectionOptions>) => {
  const events: LifecycleEvent[] = []
  const middleware = dbConnection({
    config: { ...server.config, user: 'app', ssl: { ca: certificate.cert } },
    fleet: `iam-${++fleetCounter}`,
    onEvent: (e) => events.push(e),
    ...extra,
  })
  const handler = middy<unknown, { pid: number; ssl: boolean }, Error, PgConnectionContext>()
    .use(middleware)
    .handler(
      async (_event, ctx) =>
        (
          await ctx.db.query<{ pid: number; ssl: boolean }>(
            'SELECT pid, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
          )
        )[0]!,
    )
  return { handler, events }
}

/**
 * Waits until a terminated backend has exited: its goodbye has then been sent, and is read by
 * the client while this waits on psql (a statement sent before that would be lost in flight).
 */
const backendGone = async (pid: number) => {
  while ((await server.psql(`SELECT count(*) FROM pg_stat_activity WHERE pid = ${pid}`)) !== '0');
}

const context = () => fakeContext({ timeoutMs: 5_000 }) as PgConnectionContext

test('an IAM-style token provider is called for each new connection, not per invocation; the connection is TLS; no token in events', async () => {
  let current = 'token-1'
  const issued: string[] = []
  const { handler, events } = build({
    password: async () => {
      issued.push(current)
      return current
    },
  })
  const first = await handler({}, context())
  expect(first.ssl).toBe(true)
  expect((await handler({}, context())).pid).toBe(first.pid)
  expect(issued).toEqual(['token-1'])

  // The token "expires": the server now accepts only the next one, and the connection is gone.
  current = 'token-2'
  await server.psql("ALTER ROLE app PASSWORD 'token-2'")
  await server.psql(`SELECT pg_terminate_backend(${first.pid})`)
  await backendGone(first.pid)
  const second = await handler({}, context())
  expect(second.pid).not.toBe(first.pid)
  expect(second.ssl).toBe(true)
  expect(issued).toEqual(['token-1', 'token-2'])
  expect(JSON.stringify(events)).not.toMatch(/token-[12]/)
})

test('without TLS the server refuses the connection: an AuthenticationError with the SQLSTATE, not retried until the deadline', async () => {
  const { handler, events } = build({ config: { ...server.config, user: 'app', password: 'token-2' } })
  const error = await handler({}, context()).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(AuthenticationError)
  expect((error as AuthenticationError).code).toBe('28000')
  expect(String((error as Error).message)).toContain('no encryption')
  // A static password is not tried again (it would be the same one); a provider's gets one retry.
  expect(events.map((e) => e.type)).toEqual(['error'])
})

test("a server certificate the client does not trust fails the connect at once, with the TLS error's code", async () => {
  const stranger = makeSelfSignedCertificate()
  let asked = 0
  const { handler } = build({
    config: { ...server.config, user: 'app', ssl: { ca: stranger.cert } },
    password: async () => {
      asked += 1
      return 'token-2'
    },
  })
  const error = (await handler({}, context()).catch((e: unknown) => e)) as Error & { code?: string }
  expect(error).toBeInstanceOf(ConnectError)
  expect(error.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT')
  expect(error.message).toContain('self-signed certificate')
  expect(JSON.stringify([error.message, String(error.stack)])).not.toContain('token-2')
  // A certificate does not get trusted by trying again: one attempt, one token asked for.
  expect(asked).toBe(1)
})
