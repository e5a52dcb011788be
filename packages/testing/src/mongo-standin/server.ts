import net from 'node:net'
import type { Document } from 'bson'
import { type Connection, commandName, runCommand, type ServerState } from './commands.js'
import { Cursors } from './cursors.js'
import { errorReply } from './errors.js'
import { makeCredential } from './scram.js'
import { Store } from './store.js'
import { encodeOpMsg, encodeOpReply, FrameReader, OP_QUERY, parseMessage, requestIdOf } from './wire.js'

export interface MongoStandInOptions {
  /** 0 (default) picks a free port. */
  port?: number
  /** Default 127.0.0.1. */
  host?: string
  /** username -> password; when set, SCRAM-SHA-256 authentication is required. */
  users?: Record<string, string>
}

/** A MongoDB wire-protocol stand-in: a standalone "server" for tests, backed by memory. */
export class MongoStandIn {
  readonly host: string
  /** Total TCP connections ever accepted (since start or the last reset). */
  connectionsAccepted = 0
  /** Commands received, by lowercased command name. */
  commandCounts: Record<string, number> = {}
  private currentPort: number
  private server: net.Server | undefined
  private readonly sockets = new Set<net.Socket>()
  /** Replies held back by `sleep` commands: dropped by stop(). */
  private readonly delayed = new Set<NodeJS.Timeout>()
  private readonly state: ServerState
  private nextConnectionId = 1

  private constructor(options: MongoStandInOptions) {
    this.host = options.host ?? '127.0.0.1'
    this.currentPort = options.port ?? 0
    const users = Object.entries(options.users ?? {})
    this.state = {
      store: new Store(),
      cursors: new Cursors(),
      credentials: options.users ? new Map(users.map(([u, p]) => [u, makeCredential(p)])) : undefined,
    }
  }

  static async start(options: MongoStandInOptions = {}): Promise<MongoStandIn> {
    const standIn = new MongoStandIn(options)
    await standIn.listen()
    return standIn
  }

  get port(): number {
    return this.currentPort
  }

  /** Server-side cursors still open (a cursor a client left unfinished and never killed). */
  get openCursors(): number {
    return this.state.cursors.size
  }

  get openConnections(): number {
    return this.sockets.size
  }

  url(opts: { username?: string; password?: string; dbName?: string } = {}): string {
    const auth =
      opts.username === undefined
        ? ''
        : `${encodeURIComponent(opts.username)}:${encodeURIComponent(opts.password ?? '')}@`
    return `mongodb://${auth}${this.host}:${this.port}/${opts.dbName ?? ''}?directConnection=true`
  }

  /** Closes the listener and destroys every open socket. */
  async stop(): Promise<void> {
    const server = this.server
    if (!server) return
    this.server = undefined
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const socket of this.sockets) socket.destroy()
    this.sockets.clear()
    for (const timer of this.delayed) clearTimeout(timer)
    this.delayed.clear()
    this.state.cursors.clear()
    await closed
  }

  /** Simulates a server restart: sockets are dropped, data is kept, the port stays the same. */
  async restart(): Promise<void> {
    await this.stop()
    await this.listen()
  }

  /** Clears data, cursors and counters. */
  reset(): void {
    this.state.store.clear()
    this.state.cursors.clear()
    this.connectionsAccepted = 0
    this.commandCounts = {}
  }

  private listen(): Promise<void> {
    const server = net.createServer((socket) => this.accept(socket))
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.currentPort, this.host, () => {
        server.off('error', reject)
        server.on('error', () => {}) // after listening, errors concern single sockets
        this.currentPort = (server.address() as net.AddressInfo).port
        this.server = server
        resolve()
      })
    })
  }

  private accept(socket: net.Socket): void {
    this.connectionsAccepted++
    this.sockets.add(socket)
    socket.setNoDelay(true)
    socket.on('error', () => {}) // resets from clients are normal
    socket.on('close', () => this.sockets.delete(socket))
    const conn: Connection = { id: this.nextConnectionId++ }
    const reader = new FrameReader()
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[]
      try {
        frames = reader.push(chunk)
      } catch {
        socket.destroy() // an unframeable stream cannot be answered
        return
      }
      for (const frame of frames) {
        const { reply, delayMs } = this.handleFrame(frame, conn)
        if (!reply) continue
        if (delayMs === 0) {
          if (!socket.destroyed) socket.write(reply)
          continue
        }
        const timer = setTimeout(() => {
          this.delayed.delete(timer)
          if (!socket.destroyed) socket.write(reply)
        }, delayMs)
        this.delayed.add(timer)
      }
    })
  }

  /**
   * Answers one frame; a frame that cannot be parsed or run still gets an `{ ok: 0 }` reply.
   * `delayMs`: how long a `sleep` command holds its reply back.
   */
  private handleFrame(frame: Buffer, conn: Connection): { reply?: Buffer; delayMs: number } {
    const legacy = frame.readInt32LE(12) === OP_QUERY // answered with OP_REPLY, everything else with OP_MSG
    const encode = (doc: Document) => (legacy ? encodeOpReply : encodeOpMsg)(requestIdOf(frame), doc)
    try {
      const request = parseMessage(frame)
      const name = commandName(request.command)
      this.commandCounts[name] = (this.commandCounts[name] ?? 0) + 1
      const reply = runCommand(request.command, conn, this.state)
      const millis = Number(request.command.millis)
      const delayMs = name === 'sleep' && Number(reply.ok) === 1 && millis > 0 ? millis : 0
      // moreToCome: an unacknowledged write
      return request.moreToCome ? { delayMs } : { reply: encode(reply), delayMs }
    } catch (err) {
      return { reply: encode(errorReply(err)), delayMs: 0 }
    }
  }
}
