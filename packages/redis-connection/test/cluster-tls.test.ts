import { readFileSync, rmSync } from 'node:fs'
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import middy from '@middy/core'
import type { LifecycleEvent } from '@middy-downstream/core'
import { fakeContext, RedisServer } from '@middy-downstream/testing'
import type { Context } from 'aws-lambda'
import { Cluster as Cluster5 } from 'ioredis'
import {
  createRedisClient,
  DeadlineError,
  type RedisConnectionOptions,
  redisConnection,
} from '../src/index.js'
import { type LocalCluster, startCluster } from './cluster-helper.js'
import { fault, ioredisVersions, makeCertificate, stats, timed } from './helpers.js'

const clusterPassword = 'cluster-secret-4242'
let plain: LocalCluster
let secure: LocalCluster
let tlsServer: RedisServer
let certificate: { dir: string; cert: string; key: string }
let ca: Buffer

beforeAll(async () => {
  // A certificate for the name "localhost" only: a client that connects to 127.0.0.1 by address
  // (a resolved hostname) fails its check, as with ElastiCache's TLS cluster endpoints.
  certificate = await makeCertificate('DNS:localhost')
  ca = readFileSync(certificate.cert)
  const tlsPort = await import('@middy-downstream/testing').then(({ freePort }) => freePort())
  ;[plain, secure, tlsServer] = await Promise.all([
    startCluster({ requirepass: clusterPassword }),
    startCluster({ tls: certificate }),
    RedisServer.start({
      extraArgs: [
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        certificate.cert,
        '--tls-key-file',
        certificate.key,
        '--tls-ca-cert-file',
        certificate.cert,
        '--tls-auth-clients',
        'no',
      ],
    }).then((server) => Object.assign(server, { tlsPort })),
  ])
})

afterAll(async () => {
  await Promise.all([plain?.dispose(), secure?.dispose(), tlsServer?.dispose()])
  if (certificate) rmSync(certificate.dir, { recursive: true, force: true })
})

const connectionsOf = async (cluster: LocalCluster) =>
  (await Promise.all(cluster.nodes.map((node) => stats(node)))).reduce(
    (sum, s) => sum + (s.total_connections_received ?? 0),
    0,
  )

describe.each(Object.values(ioredisVersions))('$label', ({ Redis }) => {
  const disposers: Array<() => Promise<void>> = []
  afterEach(async () => {
    await Promise.all(disposers.splice(0).map((dispose) => dispose()))
  })
  const managedHandler = (options: RedisConnectionOptions, events: LifecycleEvent[] = []) => {
    const full = { Redis, ...options, onEvent: (e: LifecycleEvent) => events.push(e) }
    disposers.push(() => createRedisClient(full).dispose())
    const handler = middy<{ keys: string[] }>()
      .use(redisConnection(full))
      .handler(async (event, context) => {
        for (const key of event.keys) await context.redis.set(key, key.toUpperCase())
        return Promise.all(event.keys.map((key) => context.redis.get(key)))
      })
    // Middy types the handler with the context the middleware completes; Lambda passes a plain one.
    return (event: { keys: string[] }, context: Context) => handler(event, context as never)
  }
  const keys = Array.from({ length: 12 }, (_, i) => `key-${i}`) // spread over the three nodes' slots

  describe('cluster mode', () => {
    test('context.redis is a Cluster; warm invocations open no connection; the password provider serves the nodes', async () => {
      let fetches = 0
      const events: LifecycleEvent[] = []
      const nodes = plain.ports.map((port) => ({ host: '127.0.0.1', port }))
      const handler = managedHandler(
        {
          cluster: { nodes },
          password: async () => {
            fetches += 1
            return clusterPassword
          },
        },
        events,
      )
      const first = await handler({ keys }, fakeContext())
      expect(first).toEqual(keys.map((key) => key.toUpperCase()))
      expect(fetches).toBeGreaterThanOrEqual(3) // the cluster's start-up, and each node it connected to
      const before = await connectionsOf(plain)
      for (let i = 0; i < 10; i++) expect(await handler({ keys }, fakeContext())).toHaveLength(keys.length)
      expect((await connectionsOf(plain)) - before).toBe(3) // the three INFOs that count them
      expect(JSON.stringify(events)).not.toContain(clusterPassword)
      expect(events.filter((e) => e.type === 'open')).toHaveLength(1)
    })

    test('a frozen node: the invocation fails inside its remaining time, and succeeds after the thaw', async () => {
      const nodes = plain.ports.map((port) => ({ host: '127.0.0.1', port }))
      const handler = managedHandler({
        cluster: { nodes },
        password: clusterPassword,
        marginMs: fault.marginMs,
      })
      expect(await handler({ keys }, fakeContext())).toHaveLength(keys.length)
      plain.nodes[1]!.freeze()
      let result: Awaited<ReturnType<typeof timed>>
      try {
        result = await timed(() => handler({ keys }, fakeContext({ timeoutMs: fault.timeoutMs })))
      } finally {
        plain.nodes[1]!.thaw()
      }
      expect(result.error).toBeInstanceOf(DeadlineError)
      expect(result.ms).toBeLessThan(fault.timeoutMs)
      expect(await handler({ keys }, fakeContext())).toHaveLength(keys.length)
    })

    test('a TLS cluster that announces hostnames works with the dnsLookup detail applied by default', async () => {
      const nodes = secure.ports.map((port) => ({ host: 'localhost', port }))
      const handler = managedHandler({ cluster: { nodes }, config: { tls: { ca } } })
      expect(await handler({ keys }, fakeContext())).toEqual(keys.map((key) => key.toUpperCase()))
    })
  })

  describe('TLS', () => {
    test('rediss:// with tls options; the TLS socket is referenced only while a command is in flight', async () => {
      const { tlsPort } = tlsServer as RedisServer & { tlsPort: number }
      const managed = createRedisClient({
        url: `rediss://localhost:${tlsPort}`,
        config: { tls: { ca } },
        Redis,
      })
      disposers.push(() => managed.dispose())
      const client = await managed.client(fakeContext())
      expect(await client.ping()).toBe('PONG')
      expect(client.stream.constructor.name).toBe('TLSSocket')
      const active = () =>
        process.getActiveResourcesInfo().filter((r) => /TCPSocketWrap|TLSWrap/.test(r)).length
      const ping = client.ping()
      const inFlight = active()
      await ping
      await managed.release()
      expect(active()).toBe(inFlight - 1)
      expect(await (await managed.client(fakeContext())).ping()).toBe('PONG')
      await managed.release()
    })
  })
})

test('control: a raw ioredis Cluster fails on this TLS cluster without the dnsLookup detail, and works with it', async () => {
  const attempt = async (extra: object) => {
    const cluster = new Cluster5(
      secure.ports.map((port) => ({ host: 'localhost', port })),
      // disconnectTimeout: ioredis' disconnect of the failed refresher connection would otherwise
      // leave a 2 s timer behind (the middleware sets it to closeTimeoutMs).
      {
        redisOptions: { tls: { ca }, disconnectTimeout: 10 },
        clusterRetryStrategy: () => null,
        lazyConnect: true,
        ...extra,
      },
    )
    cluster.on('error', () => {})
    const result = await timed(() => cluster.set('control', 'v'))
    cluster.disconnect()
    return result
  }
  // Resolved to 127.0.0.1, the name the certificate was issued for is lost.
  expect((await attempt({})).error?.message).toBe('None of startup nodes is available')
  expect(
    await attempt({
      dnsLookup: (address: string, callback: (e: null, a: string) => void) => callback(null, address),
    }),
  ).toMatchObject({ ok: true, value: 'OK' })
})
