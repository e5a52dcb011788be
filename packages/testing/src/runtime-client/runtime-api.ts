/**
 * A local Lambda Runtime API (the HTTP interface a runtime interface client polls): it hands out
 * events on `GET /2018-06-01/runtime/invocation/next` with the Lambda-Runtime-* headers and takes
 * the answers on `POST .../invocation/{id}/response` and `/error`. One server per environment.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RuntimeInvocationResult {
  ok: boolean
  value?: unknown
  /** What the client posted to `/error` (`errorType`, `errorMessage`), or the timeout. */
  error?: { errorType?: string; errorMessage?: string }
  timedOut?: boolean
}

interface Pending {
  id: string
  event: unknown
  deadlineMs: number
  resolve: (result: RuntimeInvocationResult) => void
  timer?: NodeJS.Timeout
}

const base = '/2018-06-01/runtime'

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      body += chunk
    })
    req.on('end', () => resolve(body))
    req.on('error', reject)
  })

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export class RuntimeApiServer {
  /** `GET next` requests parked until an event comes (one per idle worker). */
  private readonly waiting: ServerResponse[] = []
  private readonly queued: Pending[] = []
  private readonly inFlight = new Map<string, Pending>()
  private readonly waitingListeners: (() => void)[] = []
  /** Errors the client posted to `/init/error`. */
  readonly initErrors: unknown[] = []

  private constructor(
    private readonly server: Server,
    readonly functionName: string,
  ) {}

  static async start(functionName = 'example'): Promise<RuntimeApiServer> {
    const server = createServer()
    // `next` is a long poll: no request or keep-alive timeout may cut it.
    server.requestTimeout = 0
    server.keepAliveTimeout = 0
    const api = new RuntimeApiServer(server, functionName)
    server.on('request', (req, res) => {
      api.route(req, res).catch(() => {
        res.statusCode = 500
        res.end()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return api
  }

  /** `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`. */
  get address(): string {
    const { port } = this.server.address() as AddressInfo
    return `127.0.0.1:${port}`
  }

  /** `GET next` requests parked now: the workers (or the one runtime) ready for an event. */
  get idle(): number {
    return this.waiting.length
  }

  /** Hands `event` to the next ready worker; settles when the client answers or `timeoutMs` passes. */
  invoke(event: unknown, timeoutMs = 3_000): Promise<RuntimeInvocationResult> {
    return new Promise((resolve) => {
      const pending: Pending = { id: randomUUID(), event, deadlineMs: Date.now() + timeoutMs, resolve }
      // The runtime does not enforce the deadline under Managed Instances: the harness records it.
      pending.timer = setTimeout(
        () => this.settle(pending.id, { ok: false, timedOut: true }),
        timeoutMs + 2_000,
      )
      this.queued.push(pending)
      this.dispatch()
    })
  }

  /** Resolves once at least `count` `GET next` requests are parked. */
  whenIdle(count = 1): Promise<void> {
    if (this.waiting.length >= count) return Promise.resolve()
    return new Promise((resolve) => {
      const check = () => {
        if (this.waiting.length < count) return this.waitingListeners.push(check)
        resolve()
      }
      this.waitingListeners.push(check)
    })
  }

  async close(): Promise<void> {
    for (const pending of [...this.queued, ...this.inFlight.values()])
      this.settle(pending.id, { ok: false, error: { errorType: 'Shutdown' } })
    for (const res of this.waiting.splice(0)) res.destroy()
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private dispatch(): void {
    while (this.waiting.length && this.queued.length) {
      const res = this.waiting.shift() as ServerResponse
      const pending = this.queued.shift() as Pending
      this.inFlight.set(pending.id, pending)
      res.writeHead(200, {
        'content-type': 'application/json',
        'lambda-runtime-aws-request-id': pending.id,
        'lambda-runtime-deadline-ms': String(pending.deadlineMs),
        'lambda-runtime-invoked-function-arn': `arn:aws:lambda:us-east-1:123456789012:function:${this.functionName}`,
        'lambda-runtime-trace-id': `Root=1-${Date.now().toString(16)}-${pending.id.replace(/-/g, '').slice(0, 24)}`,
      })
      res.end(JSON.stringify(pending.event))
    }
  }

  private settle(id: string, result: RuntimeInvocationResult): boolean {
    const pending = this.inFlight.get(id) ?? this.queued.find((p) => p.id === id)
    if (!pending) return false
    this.inFlight.delete(id)
    const at = this.queued.indexOf(pending)
    if (at >= 0) this.queued.splice(at, 1)
    clearTimeout(pending.timer)
    pending.resolve(result)
    return true
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? ''
    if (req.method === 'GET' && url === `${base}/invocation/next`) {
      this.waiting.push(res)
      res.on('close', () => {
        const at = this.waiting.indexOf(res)
        if (at >= 0 && !res.writableEnded) this.waiting.splice(at, 1)
      })
      this.dispatch()
      for (const listener of this.waitingListeners.splice(0)) listener()
      return
    }
    const body = await readBody(req)
    const answer = url.match(/^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/)
    if (req.method === 'POST' && answer) {
      const id = decodeURIComponent(answer[1] as string)
      const result: RuntimeInvocationResult =
        answer[2] === 'response'
          ? { ok: true, value: parse(body) }
          : { ok: false, error: parse(body) as RuntimeInvocationResult['error'] }
      res.writeHead(this.settle(id, result) ? 202 : 400).end('{"status":"OK"}')
      return
    }
    if (req.method === 'POST' && url === `${base}/init/error`) {
      this.initErrors.push(parse(body))
      res.writeHead(202).end('{"status":"OK"}')
      return
    }
    res.writeHead(404).end()
  }
}
