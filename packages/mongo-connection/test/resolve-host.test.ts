// Host names are resolved without libuv's threadpool (core's resolveHost as the driver's `lookup`):
// with UV_THREADPOOL_SIZE=1 and that one thread blocked, as Managed Instances' runtime workers
// block it, a connect by name still completes; a plain MongoClient's does not.
import { connect, type Server } from 'node:net'
import path from 'node:path'
import { createServer } from 'node:tls'
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { MongoStandIn, makeSelfSignedCertificate, runWithBlockedThreadpool } from '@middy-downstream/testing'

const fixture = path.resolve('packages/mongo-connection/test/fixtures/blocked-threadpool.mjs')
// Valid for the name only: a connect that sent the address as the TLS server name would fail.
const certificate = makeSelfSignedCertificate('DNS:localhost')
let standIn: MongoStandIn
let tls: Server

beforeAll(async () => {
  standIn = await MongoStandIn.start()
  // TLS in front of the stand-in, as a server with a certificate for its name.
  tls = createServer({ key: certificate.key, cert: certificate.cert }, (socket) => {
    const upstream = connect(standIn.port, '127.0.0.1')
    socket.pipe(upstream).pipe(socket)
    socket.on('error', () => upstream.destroy())
    upstream.on('error', () => socket.destroy())
  })
  await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve))
})
afterAll(async () => {
  await new Promise((resolve) => tls.close(resolve))
  await standIn.stop()
})

const runBlocked = (url: string, env: Record<string, string> = {}) =>
  runWithBlockedThreadpool(fixture, {
    MONGO_URL: url,
    WARM_URL: `mongodb://127.0.0.1:${standIn.port}/?directConnection=true`,
    ...env,
  })

const plainUrl = () => `mongodb://localhost:${standIn.port}/?directConnection=true`

test('control: a plain MongoClient cannot connect by name while the threadpool is blocked', async () => {
  expect(await runBlocked(plainUrl(), { CONTROL: '1' })).toMatchObject({
    ok: false,
    lookupAnsweredFirst: false,
  })
})

test('the middleware connects by name while the threadpool is blocked', async () => {
  expect(await runBlocked(plainUrl())).toEqual({ ok: true, value: 1, lookupAnsweredFirst: false })
})

test('over TLS too, with the certificate checked against the name', async () => {
  const { port } = tls.address() as { port: number }
  // The CA as a value: a tlsCAFile is read with fs.promises, on the threadpool.
  const url = `mongodb://localhost:${port}/?directConnection=true`
  expect(await runBlocked(url, { MONGO_CA: certificate.cert })).toEqual({
    ok: true,
    value: 1,
    lookupAnsweredFirst: false,
  })
})
