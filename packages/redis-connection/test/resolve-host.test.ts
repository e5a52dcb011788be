// Under Managed Instances (AWS_LAMBDA_MAX_CONCURRENCY set) nothing in a connect waits for libuv's
// threadpool: host names go through core's resolveHost (an ioredis Connector), and ioredis 5's
// package.json read for CLIENT SETINFO is skipped. With UV_THREADPOOL_SIZE=1 and that one thread
// blocked, as the runtime's waiting workers block it, a connect by name still completes; a plain
// ioredis client's does not.
import path from 'node:path'
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import {
  freePort,
  makeSelfSignedCertificate,
  RedisServer,
  runWithBlockedThreadpool,
} from '@middy-downstream/testing'

const fixture = path.resolve('packages/redis-connection/test/fixtures/blocked-threadpool.mjs')
// Valid for the name only: a connect that sent the address as the TLS server name would fail.
const certificate = makeSelfSignedCertificate('DNS:localhost')
let server: RedisServer
let tlsPort: number

beforeAll(async () => {
  tlsPort = await freePort()
  server = await RedisServer.start({
    extraArgs: [
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      certificate.certPath,
      '--tls-key-file',
      certificate.keyPath,
      '--tls-ca-cert-file',
      certificate.certPath,
      '--tls-auth-clients',
      'no',
    ],
  })
})
afterAll(() => server.dispose())

const runBlocked = (env: Record<string, string>) =>
  runWithBlockedThreadpool(fixture, { REDIS_HOST: 'localhost', ...env })

test('control: a plain ioredis client cannot connect by name while the threadpool is blocked', async () => {
  expect(await runBlocked({ REDIS_PORT: String(server.port), CONTROL: '1' })).toMatchObject({
    ok: false,
    lookupAnsweredFirst: false,
  })
})

test('the middleware connects by name while the threadpool is blocked', async () => {
  expect(await runBlocked({ REDIS_PORT: String(server.port) })).toEqual({
    ok: true,
    value: 'PONG',
    lookupAnsweredFirst: false,
  })
})

test('over TLS too, with the certificate checked against the name', async () => {
  expect(await runBlocked({ REDIS_PORT: String(tlsPort), TLS_CA: certificate.cert })).toEqual({
    ok: true,
    value: 'PONG',
    lookupAnsweredFirst: false,
  })
})
