import type { MongoClient } from 'mongodb'

// The driver's internals this package reaches, each by feature detection (checked in driver 6.22
// and 7.9): a missing piece makes the feature a no-op, never an error.

interface InternalConnection {
  socket?: { ref?: () => void; unref?: () => void }
}

/** The driver's `List` of idle connections: a ring of nodes around a `head` sentinel, `count` long. */
interface InternalList extends Iterable<InternalConnection> {
  head?: InternalListNode
  count?: number
}

interface InternalListNode {
  next?: InternalListNode
  value?: InternalConnection | null
}

interface InternalServer {
  pool?: { connections?: InternalList; checkedOut?: Iterable<InternalConnection> }
  monitor?: { connection?: InternalConnection | null }
}

export interface InternalTopology {
  s?: { servers?: Map<string, InternalServer> }
  closeCheckedOutConnections?: () => void
  close?: () => void
}

interface InternalClientState {
  /** Cursors with a server-side cursor still open (driver 6.10+). */
  activeCursors?: Set<{ close(): Promise<void> }>
  /** Explicit and implicit sessions not yet ended. */
  activeSessions?: Set<{ endSession(): Promise<void> }>
}

export const topologyOf = (client: MongoClient): InternalTopology | undefined =>
  (client as unknown as { topology?: InternalTopology }).topology

const clientState = (client: MongoClient): InternalClientState | undefined =>
  (client as unknown as { s?: InternalClientState }).s

type InternalSocket = NonNullable<InternalConnection['socket']>

/**
 * Calls `each` with the socket of every connection in the driver's idle-connection list. The list
 * is walked through its nodes, at most `count` of them: its own iterator is two nested generators,
 * which cost ~130 ns per call, three times per invocation. Without that shape, its iterator.
 */
const forEachListed = (connections: InternalList, each: (socket: InternalSocket) => void): void => {
  const { head, count } = connections
  if (head === undefined || typeof count !== 'number') {
    for (const connection of connections) if (connection.socket) each(connection.socket)
    return
  }
  let node = head.next
  for (let left = count; left > 0 && node !== undefined && node !== head; left--) {
    const socket = node.value?.socket
    if (socket) each(socket)
    node = node.next
  }
}

/**
 * Calls `each` with every TCP socket of a client: its pool connections (idle and checked out)
 * and its monitors'. Plain loops, no generator: this runs three times per invocation.
 */
const forEachSocket = (client: MongoClient, each: (socket: InternalSocket) => void): void => {
  const servers = topologyOf(client)?.s?.servers
  if (!servers) return
  for (const server of servers.values()) {
    const pool = server.pool
    if (pool?.connections) forEachListed(pool.connections, each)
    for (const connection of pool?.checkedOut ?? []) if (connection.socket) each(connection.socket)
    const monitored = server.monitor?.connection?.socket
    if (monitored) each(monitored)
  }
}

const ref = (socket: InternalSocket) => socket.ref?.()
const unref = (socket: InternalSocket) => socket.unref?.()

/**
 * References (in use) or unreferences (idle) a client's sockets, so an idle kept client does not
 * hold a script's process open through them. The driver's heartbeat timer stays referenced: the
 * driver re-arms it on every heartbeat.
 */
export const setSocketsRef = (client: MongoClient, referenced: boolean): void =>
  forEachSocket(client, referenced ? ref : unref)

/** Whether the client has server-side state a handler left behind: an open cursor or a session. */
export const hasLeftovers = (client: MongoClient): boolean => {
  const state = clientState(client)
  return (state?.activeCursors?.size ?? 0) > 0 || (state?.activeSessions?.size ?? 0) > 0
}

/**
 * Closes the cursors (killCursors) and ends the sessions (aborting an open transaction) a handler
 * left open, as `client.close()` would, but keeps the client.
 */
export const closeLeftovers = async (client: MongoClient): Promise<void> => {
  const state = clientState(client)
  // Cursors first: a cursor's own (implicit) session must still be open to send killCursors.
  await Promise.all([...(state?.activeCursors ?? [])].map((cursor) => cursor.close()))
  await Promise.all([...(state?.activeSessions ?? [])].map((session) => session.endSession()))
}
