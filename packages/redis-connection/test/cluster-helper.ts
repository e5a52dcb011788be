import { freePort, RedisServer } from '@middy-downstream/testing'
import { until } from './helpers.js'

export interface LocalCluster {
  nodes: RedisServer[]
  /** The ports clients use: the plain ones, or the TLS ones for a TLS cluster. */
  ports: number[]
  dispose(): Promise<void>
}

/**
 * A 3-master Redis Cluster on private ports, built by hand (ADDSLOTSRANGE + MEET) rather than
 * with `redis-cli --cluster create`, which waits in 1 s steps. Redis keeps a new cluster in
 * `fail` for 2 s after start-up (CLUSTER_WRITABLE_DELAY), so this takes a little over 2 s.
 * With `tls`, nodes serve TLS on their own ports, talk TLS on the bus, and announce the hostname
 * `localhost` (CLUSTER SLOTS then names hosts, as ElastiCache's TLS clusters do).
 */
export const startCluster = async (
  options: { requirepass?: string; tls?: { cert: string; key: string } } = {},
): Promise<LocalCluster> => {
  const specs = await Promise.all(
    [0, 1, 2].map(async () => ({ bus: await freePort(), tls: options.tls ? await freePort() : undefined })),
  )
  const nodes = await Promise.all(
    specs.map((spec) =>
      RedisServer.start({
        ...(options.requirepass ? { requirepass: options.requirepass } : {}),
        extraArgs: [
          '--cluster-enabled',
          'yes',
          '--cluster-node-timeout',
          '5000',
          // Explicit bus ports: port + 10000 may not exist for a high free port.
          '--cluster-port',
          String(spec.bus),
          ...(options.tls && spec.tls
            ? [
                '--tls-port',
                String(spec.tls),
                '--tls-cluster',
                'yes',
                '--tls-cert-file',
                options.tls.cert,
                '--tls-key-file',
                options.tls.key,
                '--tls-ca-cert-file',
                options.tls.cert,
                '--tls-auth-clients',
                'no',
                '--cluster-announce-hostname',
                'localhost',
                '--cluster-preferred-endpoint-type',
                'hostname',
              ]
            : []),
        ],
      }),
    ),
  )
  const ports = specs.map((spec, i) => spec.tls ?? nodes[i]!.port)
  const ranges = [
    [0, 5460],
    [5461, 10922],
    [10923, 16383],
  ]
  await Promise.all(nodes.map((node, i) => node.cli('CLUSTER', 'ADDSLOTSRANGE', ...ranges[i]!.map(String))))
  // Every node meets every other, so no node waits on gossip to learn a peer; the meetings are
  // sent again while the cluster has not converged, since a handshake over TLS on a loaded machine
  // can outlive the node timeout and be dropped.
  const meetAll = () =>
    Promise.all(
      nodes.flatMap((node, i) =>
        nodes.map((_, j) =>
          i === j
            ? undefined
            : node.cli('CLUSTER', 'MEET', '127.0.0.1', String(ports[j]), String(specs[j]!.bus)),
        ),
      ),
    )
  await meetAll()
  let lastMeet = Date.now()
  await until(async () => {
    const infos = await Promise.all(nodes.map((node) => node.cli('CLUSTER', 'INFO')))
    const ok = infos.every(
      (info) => info.includes('cluster_state:ok') && info.includes('cluster_known_nodes:3'),
    )
    if (!ok && Date.now() - lastMeet > 3000) {
      lastMeet = Date.now()
      await meetAll()
    }
    return ok
  }, 45_000)
  return { nodes, ports, dispose: async () => void (await Promise.all(nodes.map((node) => node.dispose()))) }
}
