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
export const startCluster = async (options: ClusterOptions = {}): Promise<LocalCluster> => {
  // The bus and TLS ports are picked free, then bound by the servers a moment later: on a busy
  // machine another process can take one in between (a node then resets its clients). Such a
  // start is thrown away and made again on new ports, at most twice.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce(options)
    } catch (error) {
      if (attempt >= 3) throw error
    }
  }
}

type ClusterOptions = { requirepass?: string; tls?: { cert: string; key: string } }

const startClusterOnce = async (options: ClusterOptions): Promise<LocalCluster> => {
  const specs = await Promise.all(
    [0, 1, 2].map(async () => ({ bus: await freePort(), tls: options.tls ? await freePort() : undefined })),
  )
  const started = await Promise.allSettled(
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
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))
  const dispose = async () => void (await Promise.all(nodes.map((node) => node.dispose())))
  try {
    if (nodes.length < specs.length) {
      throw (started.find((result) => result.status === 'rejected') as PromiseRejectedResult).reason
    }
    await formCluster(nodes, specs)
  } catch (error) {
    await dispose()
    throw error
  }
  return { nodes, ports: portsOf(nodes, specs), dispose }
}

const portsOf = (nodes: RedisServer[], specs: { tls?: number }[]) =>
  specs.map((spec, i) => spec.tls ?? nodes[i]!.port)

/** Slots split in three, every node meeting every other, until all three say the cluster is ok. */
const formCluster = async (nodes: RedisServer[], specs: { bus: number; tls?: number }[]) => {
  const ports = portsOf(nodes, specs)
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
}
