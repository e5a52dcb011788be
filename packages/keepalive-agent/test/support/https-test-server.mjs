// A local HTTPS server for tests and benchmarks: a self-signed certificate made with the openssl
// binary at start, counters for TCP connections and TLS handshakes, the few S3 calls the tests
// use (path-style), and an idle timeout that closes keep-alive sockets without announcing it.
// Plain JavaScript (typed by https-test-server.d.mts) so the benchmarks can use it without a build.
import { createHash } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { rmSync } from 'node:fs'
import https from 'node:https'
import { crc32 } from 'node:zlib'
import { makeSelfSignedCertificate as makeCertificate } from '@middy-downstream/testing'

const directories = new Set()
process.once('exit', () => {
  for (const dir of directories) rmSync(dir, { recursive: true, force: true })
})

/** A P-256 key and a self-signed certificate for localhost and 127.0.0.1, in a temp dir. */
export const makeSelfSignedCertificate = () => {
  const certificate = makeCertificate()
  directories.add(certificate.dir)
  return certificate
}

const crc32Base64 = (data) => {
  const digest = Buffer.alloc(4)
  digest.writeUInt32BE(crc32(data))
  return digest.toString('base64')
}

const xml = (body) => `<?xml version="1.0" encoding="UTF-8"?>\n${body}`
const escapeXml = (text) =>
  text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c],
  )

export class HttpsTestServer extends EventEmitter {
  /** TCP connections accepted. */
  connections = 0
  /** TLS handshakes completed (full and resumed). */
  handshakes = 0
  /** Of those, handshakes that resumed an earlier TLS session (cheaper, still a round trip). */
  resumedHandshakes = 0
  /** TCP connections open now, and the most that were open at once. */
  open = 0
  peakOpen = 0
  /** Keep-alive sockets the server closed because they sat idle for `idleTimeoutMs`. */
  idleClosed = 0
  /** HTTP requests received. */
  requests = 0
  /** Requests held by `holdNext` and not yet answered. */
  held = 0
  /** Requests answered with a TCP reset by `resetNext`. */
  resets = 0
  /** Objects by `bucket/key`. */
  objects = new Map()

  #server
  #sockets = new Set()
  #tlsSockets = new Set()
  #rawByPort = new Map()
  #expired = new Set()
  #idleClose
  #resetsLeft = 0
  #idleTimeoutMs
  #keepAliveHintSeconds
  #checksums
  #latencyMs
  #holds = []
  #certificate

  constructor(server, certificate, options) {
    super()
    this.#server = server
    this.#certificate = certificate
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 0
    this.#idleClose = options.idleClose ?? 'fin'
    this.#keepAliveHintSeconds = options.keepAliveHintSeconds
    this.#checksums = options.checksums ?? false
    this.#latencyMs = options.latencyMs ?? 0
  }

  static async start(options = {}) {
    const certificate = makeSelfSignedCertificate()
    const server = https.createServer({ key: certificate.key, cert: certificate.cert })
    // No timeout of Node's own: it would announce itself in a Keep-Alive header, and the idle
    // close below must come unannounced, as it does from many upstreams.
    server.keepAliveTimeout = 0
    const instance = new HttpsTestServer(server, certificate, options)
    instance.#listen()
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    return instance
  }

  /** Open connections the server has not closed (or, with `idleClose: 'silent'`, forgotten) for idleness. */
  get live() {
    return this.#tlsSockets.size - this.#expired.size
  }

  get port() {
    return this.#server.address().port
  }

  get url() {
    return `https://127.0.0.1:${this.port}`
  }

  /** The certificate (PEM) to trust, and its file for NODE_EXTRA_CA_CERTS. */
  get ca() {
    return this.#certificate.cert
  }

  get caPath() {
    return this.#certificate.certPath
  }

  resetCounters() {
    this.connections = 0
    this.handshakes = 0
    this.resumedHandshakes = 0
    this.peakOpen = this.open
    this.idleClosed = 0
    this.requests = 0
    this.resets = 0
  }

  /**
   * Holds the next `count` requests unanswered until `release()`; `reached` resolves once all
   * `count` are being held (so that many requests are in flight at once).
   */
  holdNext(count) {
    const hold = { remaining: count, waiting: [], reached: undefined, resolveReached: undefined }
    hold.reached = new Promise((resolve) => {
      hold.resolveReached = resolve
    })
    hold.release = () => {
      this.#holds = this.#holds.filter((h) => h !== hold)
      for (const answer of hold.waiting.splice(0)) answer()
    }
    this.#holds.push(hold)
    return { reached: hold.reached, release: hold.release }
  }

  /** Resolves when `predicate(server)` holds, checked after every change of a counter. */
  waitFor(predicate, { timeoutMs = 20_000, what = 'condition' } = {}) {
    if (predicate(this)) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate(this)) return
        cleanup()
        resolve()
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`https test server: ${what} not reached within ${timeoutMs} ms`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        this.off('change', check)
      }
      this.on('change', check)
    })
  }

  /** Answers the next `count` requests by resetting their connection (TCP RST), no response. */
  resetNext(count) {
    this.#resetsLeft = count
  }

  /**
   * Closes every keep-alive connection that is idle (no request in progress) right now, as a
   * server's idle timeout would; returns how many. Clients notice only when they next read.
   */
  closeIdleConnections() {
    let closed = 0
    for (const socket of this.#tlsSockets) {
      if (socket.destroyed || socket.busy) continue
      clearTimeout(socket.idleTimer)
      socket.destroySoon()
      closed += 1
    }
    this.idleClosed += closed
    this.#changed()
    return closed
  }

  /**
   * Forgets every keep-alive connection that is idle right now, without telling the client: its
   * next request there gets a TCP reset (`idleClose: 'silent'`, at once). Returns how many.
   */
  expireIdleConnections() {
    let expired = 0
    for (const socket of this.#tlsSockets) {
      if (socket.destroyed || socket.busy || socket.expired) continue
      clearTimeout(socket.idleTimer)
      socket.expired = true
      this.#expired.add(socket)
      expired += 1
    }
    this.idleClosed += expired
    this.#changed()
    return expired
  }

  async close() {
    for (const hold of this.#holds) hold.release()
    for (const socket of this.#sockets) socket.destroy()
    await new Promise((resolve) => this.#server.close(() => resolve()))
    rmSync(this.#certificate.dir, { recursive: true, force: true })
    directories.delete(this.#certificate.dir)
  }

  async [Symbol.asyncDispose]() {
    await this.close()
  }

  #changed() {
    this.emit('change')
  }

  #listen() {
    const server = this.#server
    server.on('connection', (socket) => {
      this.connections += 1
      this.open += 1
      this.peakOpen = Math.max(this.peakOpen, this.open)
      this.#sockets.add(socket)
      this.#rawByPort.set(socket.remotePort, socket)
      socket.on('error', () => {})
      socket.once('close', () => {
        this.open -= 1
        this.#sockets.delete(socket)
        this.#rawByPort.delete(socket.remotePort)
        this.#changed()
      })
      this.#changed()
    })
    server.on('secureConnection', (tlsSocket) => {
      this.handshakes += 1
      if (tlsSocket.isSessionReused()) this.resumedHandshakes += 1
      tlsSocket.on('error', () => {})
      this.#tlsSockets.add(tlsSocket)
      tlsSocket.once('close', () => {
        clearTimeout(tlsSocket.idleTimer)
        this.#tlsSockets.delete(tlsSocket)
        this.#expired.delete(tlsSocket)
        this.#changed()
      })
      this.#changed()
    })
    server.on('tlsClientError', (_error, tlsSocket) => tlsSocket.destroy())
    server.on('request', (req, res) => {
      this.requests += 1
      const socket = req.socket
      if (socket.expired) {
        // The server forgot this connection long ago: its kernel answers new data with a reset.
        this.#rawByPort.get(socket.remotePort)?.resetAndDestroy()
        this.#changed()
        return
      }
      clearTimeout(socket.idleTimer)
      socket.busy = true
      res.once('close', () => {
        socket.busy = false
        this.#armIdleTimer(socket)
      })
      if (this.#keepAliveHintSeconds !== undefined) {
        res.setHeader('Keep-Alive', `timeout=${this.#keepAliveHintSeconds}`)
      }
      const chunks = []
      req.on('data', (chunk) => chunks.push(chunk))
      req.on('end', () => this.#route(req, res, Buffer.concat(chunks)))
      this.#changed()
    })
  }

  #armIdleTimer(socket) {
    if (!this.#idleTimeoutMs || socket.destroyed) return
    clearTimeout(socket.idleTimer)
    socket.idleTimer = setTimeout(() => {
      this.idleClosed += 1
      if (this.#idleClose === 'silent') {
        // The client is told nothing now; the next request on the connection is reset.
        socket.expired = true
        this.#expired.add(socket)
      } else {
        // close_notify and FIN, then the socket is gone: a request written to it later is reset.
        socket.destroySoon()
      }
      this.#changed()
    }, this.#idleTimeoutMs)
  }

  #route(req, res, body) {
    if (this.#resetsLeft > 0) {
      this.#resetsLeft -= 1
      this.resets += 1
      // A TCP RST on the connection the request came in on, and no response.
      this.#rawByPort.get(req.socket.remotePort)?.resetAndDestroy()
      this.#changed()
      return
    }
    const url = new URL(req.url, 'https://localhost')
    const hold = this.#holds.find((h) => h.remaining > 0)
    const answer = this.#latencyMs
      ? () => setTimeout(() => this.#answer(req, res, url, body), this.#latencyMs)
      : () => this.#answer(req, res, url, body)
    if (hold) {
      hold.remaining -= 1
      this.held += 1
      hold.waiting.push(() => {
        this.held -= 1
        answer()
      })
      if (hold.remaining === 0) hold.resolveReached()
      this.#changed()
      return
    }
    answer()
  }

  #answer(req, res, url, body) {
    if (res.destroyed) return
    if (url.pathname === '/json') {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ ok: true, method: req.method }))
      return
    }
    if (url.pathname.startsWith('/stall')) return // never answered: for request timeouts
    const [, bucket = '', ...rest] = url.pathname.split('/')
    const key = decodeURIComponent(rest.join('/'))
    if (key.startsWith('stall')) return
    res.setHeader('x-amz-request-id', `req-${this.requests}`)
    if (!key && req.method === 'GET' && url.searchParams.get('list-type') === '2') {
      const prefix = `${bucket}/`
      const contents = [...this.objects.entries()]
        .filter(([name]) => name.startsWith(prefix))
        .map(
          ([name, data]) =>
            `<Contents><Key>${escapeXml(name.slice(prefix.length))}</Key><Size>${data.length}</Size></Contents>`,
        )
      res.setHeader('content-type', 'application/xml')
      res.end(
        xml(
          `<ListBucketResult><Name>${escapeXml(bucket)}</Name><KeyCount>${contents.length}</KeyCount><IsTruncated>false</IsTruncated>${contents.join('')}</ListBucketResult>`,
        ),
      )
      return
    }
    const name = `${bucket}/${key}`
    const etag = (data) => `"${createHash('md5').update(data).digest('hex')}"`
    switch (req.method) {
      case 'PUT':
        this.objects.set(name, body)
        res.setHeader('ETag', etag(body))
        res.end()
        return
      case 'GET':
      case 'HEAD': {
        const data = this.objects.get(name)
        if (!data) {
          res.statusCode = 404
          res.setHeader('content-type', 'application/xml')
          res.end(
            req.method === 'HEAD'
              ? undefined
              : xml(
                  `<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${escapeXml(key)}</Key></Error>`,
                ),
          )
          return
        }
        res.setHeader('ETag', etag(data))
        // As S3 does for an object stored with a checksum, when the client asks for it: the SDK
        // then reads the body through a stream of its own that verifies it.
        if (this.#checksums && req.headers['x-amz-checksum-mode'] === 'ENABLED') {
          res.setHeader('x-amz-checksum-crc32', crc32Base64(data))
        }
        res.setHeader('content-type', 'application/octet-stream')
        res.setHeader('content-length', data.length)
        res.end(req.method === 'HEAD' ? undefined : data)
        return
      }
      case 'DELETE':
        this.objects.delete(name)
        res.statusCode = 204
        res.end()
        return
      default:
        res.statusCode = 405
        res.end()
    }
  }
}
