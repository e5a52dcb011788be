import type * as Net from 'node:net'
import { net } from './builtins.js'

/**
 * - `pass`: forward bytes both ways.
 * - `blackhole`: stop forwarding and keep every socket open, silently (a dropped NAT mapping, a
 *   frozen peer); new connections are accepted and never answered.
 * - `reset`: send a TCP RST on every socket; new connections are reset at once.
 * - `{ delayMs }`: forward each chunk after a delay.
 */
export type FaultMode = 'pass' | 'blackhole' | 'reset' | { delayMs: number }

export interface ProxiedConnection {
  readonly id: number
  readonly client: Net.Socket
  readonly upstream: Net.Socket
  mode: FaultMode
}

/**
 * A TCP proxy between a client and a server that injects network faults per connection or for
 * all of them. SIGSTOP of a server does not stop its kernel answering TCP, so a silently dropped
 * connection can only be simulated here.
 *
 * @example
 * const proxy = await FaultProxy.start({ port: db.port })
 * proxy.setMode('blackhole')   // existing and new connections go silent
 * proxy.setMode('pass')
 */
export class FaultProxy {
  readonly host = '127.0.0.1'
  connectionsAccepted = 0
  private readonly connections = new Map<number, ProxiedConnection>()
  private defaultMode: FaultMode = 'pass'
  private readonly pendingFaults: { text: string; mode: FaultMode }[] = []

  private constructor(
    private readonly server: Net.Server,
    private readonly target: { host: string; port: number },
  ) {
    server.on('connection', (client) => this.accept(client))
  }

  static async start(target: { host?: string; port: number }): Promise<FaultProxy> {
    const server = net().createServer({ pauseOnConnect: true })
    const proxy = new FaultProxy(server, { host: target.host ?? '127.0.0.1', port: target.port })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return proxy
  }

  get port(): number {
    return (this.server.address() as Net.AddressInfo).port
  }

  get openConnections(): ProxiedConnection[] {
    return [...this.connections.values()]
  }

  /** Applies a mode to every open connection and to those that come later. */
  setMode(mode: FaultMode): void {
    this.defaultMode = mode
    for (const connection of this.connections.values()) this.apply(connection, mode)
  }

  /** Applies a mode to one open connection only. */
  setConnectionMode(id: number, mode: FaultMode): void {
    const connection = this.connections.get(id)
    if (connection) this.apply(connection, mode)
  }

  /**
   * The next chunk any client sends that contains `text` switches that client's connection to
   * `mode` before the chunk is forwarded: a fault in exactly one request (e.g. one statement that
   * times out), while every other request passes.
   */
  faultNext(text: string, mode: FaultMode): void {
    this.pendingFaults.push({ text, mode })
  }

  async close(): Promise<void> {
    for (const connection of this.connections.values()) {
      connection.client.destroy()
      connection.upstream.destroy()
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  private accept(client: Net.Socket): void {
    this.connectionsAccepted += 1
    const id = this.connectionsAccepted
    client.on('error', () => {})
    if (this.defaultMode === 'reset') {
      client.resetAndDestroy()
      return
    }
    const upstream = net().connect(this.target)
    upstream.on('error', () => client.destroy())
    const connection: ProxiedConnection = { id, client, upstream, mode: 'pass' }
    this.connections.set(id, connection)
    const forget = () => {
      this.connections.delete(id)
      client.destroy()
      upstream.destroy()
    }
    client.once('close', forget)
    upstream.once('close', () => {
      // A black-holed link never tells the client that the server went away.
      if (connection.mode !== 'blackhole') forget()
    })
    this.pipe(connection, client, upstream, (chunk) => this.matchFault(connection, chunk))
    this.pipe(connection, upstream, client)
    this.apply(connection, this.defaultMode)
    client.resume()
  }

  private matchFault(connection: ProxiedConnection, chunk: Buffer): void {
    const index = this.pendingFaults.findIndex(({ text }) => chunk.includes(text))
    if (index < 0) return
    const [fault] = this.pendingFaults.splice(index, 1)
    if (fault) this.apply(connection, fault.mode)
  }

  private pipe(
    connection: ProxiedConnection,
    from: Net.Socket,
    to: Net.Socket,
    inspect?: (chunk: Buffer) => void,
  ): void {
    from.on('data', (chunk: Buffer) => {
      inspect?.(chunk)
      const { mode } = connection
      if (mode === 'pass') to.write(chunk)
      else if (typeof mode === 'object') setTimeout(() => to.writable && to.write(chunk), mode.delayMs)
      // blackhole: the bytes are swallowed
    })
  }

  private apply(connection: ProxiedConnection, mode: FaultMode): void {
    connection.mode = mode
    if (mode === 'reset') {
      connection.client.resetAndDestroy()
      connection.upstream.destroy()
    }
  }
}
