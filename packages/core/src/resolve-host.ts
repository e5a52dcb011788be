/**
 * Name resolution that does not wait for libuv's threadpool. `dns.lookup` (getaddrinfo) runs on
 * the threadpool's 4 threads; under Lambda Managed Instances each runtime worker waiting for its
 * next event holds one, so with 4 or more workers a lookup waits until another event arrives.
 * Here the hosts file is read directly and other names go to c-ares (`dns.promises.Resolver`),
 * which runs on the event loop; answers are cached within their TTL (capped, so a failover's new
 * address is seen soon), and every lookup is bounded in time with an error that says "DNS lookup".
 */
import { fs, net } from './builtins.js'
import { withTimeout } from './sleep.js'

export interface ResolvedAddress {
  address: string
  family: 4 | 6
}

/** Longest an answer is cached whatever its TTL: Aurora and RDS endpoints use 5 s and change address on failover. */
export const maxCacheMs = 5_000

const cache = new Map<string, { addresses: ResolvedAddress[]; expiresAt: number }>()
const inFlight = new Map<string, Promise<ResolvedAddress[]>>()
let hosts: Map<string, ResolvedAddress[]> | undefined

/** The hosts file, read once (synchronously: a small local file, and no threadpool). */
const hostsFile = (path = '/etc/hosts'): Map<string, ResolvedAddress[]> => {
  if (hosts) return hosts
  hosts = new Map()
  let text = ''
  try {
    text = fs().readFileSync(path, 'utf8')
  } catch {}
  for (const line of text.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/)
    const family = net().isIP(address ?? '')
    if (!address || family === 0) continue
    for (const name of names) {
      const key = name.toLowerCase()
      hosts.set(key, [...(hosts.get(key) ?? []), { address, family: family as 4 | 6 }])
    }
  }
  if (!hosts.has('localhost')) hosts.set('localhost', [{ address: '127.0.0.1', family: 4 }])
  return hosts
}

/**
 * `node:dns/promises`, loaded on the first lookup by name: most cold starts connect by a name only
 * later (lazily) or never, and the module is a measurable part of importing core.
 */
const dnsModule = () => import('node:dns/promises')

const fromDns = async (host: string, timeoutMs: number): Promise<ResolvedAddress[]> => {
  const { Resolver, lookup: systemLookup } = await dnsModule()
  const resolver = new Resolver({ timeout: Math.max(1, Math.floor(timeoutMs / 2)), tries: 2 })
  const answers = async (family: 4 | 6) => {
    const records =
      family === 4
        ? await resolver.resolve4(host, { ttl: true })
        : await resolver.resolve6(host, { ttl: true })
    return records.map((r) => ({ address: r.address, family, ttl: r.ttl }))
  }
  let records: { address: string; family: 4 | 6; ttl: number }[]
  try {
    records = await answers(4).catch(async (error: { code?: string }) => {
      if (error.code === 'ENODATA') return answers(6)
      throw error
    })
  } catch {
    // A name only the system resolver knows (nsswitch beyond files and DNS): getaddrinfo, bounded by the caller.
    const found = await systemLookup(host, { all: true })
    return found.map((r) => ({ address: r.address, family: r.family as 4 | 6 }))
  }
  const ttlMs = Math.min(maxCacheMs, ...records.map((r) => r.ttl * 1000))
  const addresses = records.map(({ address, family }) => ({ address, family }))
  cache.set(host, { addresses, expiresAt: Date.now() + ttlMs })
  return addresses
}

/**
 * The address to connect to for `host`, within `timeoutMs`: an IP as is, a hosts-file name
 * (`localhost`) at once, a DNS name from the cache or c-ares. Rejects with code `EAI_AGAIN` and a
 * message naming the DNS lookup when time runs out.
 *
 * @example
 * const { address } = await resolveHost('db.cluster-abc.eu-west-1.rds.amazonaws.com', deadline.bound(5000))
 */
export const resolveHost = async (host: string, timeoutMs: number): Promise<ResolvedAddress> => {
  const family = net().isIP(host)
  if (family !== 0) return { address: host, family: family as 4 | 6 }
  const key = host.toLowerCase()
  const listed = hostsFile().get(key)
  if (listed) return listed.find((a) => a.family === 4) ?? (listed[0] as ResolvedAddress)
  const cached = cache.get(key)
  if (cached && cached.expiresAt > Date.now()) return cached.addresses[0] as ResolvedAddress
  let pending = inFlight.get(key)
  if (!pending) {
    pending = fromDns(key, timeoutMs).finally(() => inFlight.delete(key))
    inFlight.set(key, pending)
  }
  const addresses = await withTimeout(pending, timeoutMs, () =>
    Object.assign(new Error(`DNS lookup of "${host}" timed out after ${timeoutMs} ms`), {
      code: 'EAI_AGAIN',
    }),
  )
  const first = addresses[0]
  if (!first)
    throw Object.assign(new Error(`DNS lookup of "${host}" found no address`), { code: 'ENOTFOUND' })
  return first
}

/** Drops a cached answer, e.g. after a connect to it failed: the next lookup asks DNS again. */
export const forgetResolvedHost = (host: string): void => {
  cache.delete(host.toLowerCase())
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | ResolvedAddress[],
  family?: number,
) => void

/**
 * A `lookup` for `net.connect` / `tls.connect` options (and clients that pass them on, such as
 * ioredis), answering through `resolveHost` within `timeoutMs`.
 *
 * @example
 * net.connect({ host: 'cache.example.com', port: 6379, lookup: createLookup(2000) })
 */
export const createLookup =
  (timeoutMs: number) =>
  (hostname: string, options: { all?: boolean } | number | undefined, callback: LookupCallback): void => {
    resolveHost(hostname, timeoutMs).then(
      (resolved) =>
        typeof options === 'object' && options?.all
          ? callback(null, [resolved])
          : callback(null, resolved.address, resolved.family),
      (error: NodeJS.ErrnoException) => callback(error, ''),
    )
  }
