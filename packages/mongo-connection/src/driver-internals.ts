import type { MongoClient } from 'mongodb'

// The driver's internals this package reaches, each by feature detection (checked in driver 6.22
// and 7.9): a missing piece makes the feature a no-op, never an error.

interface InternalConnection {
  socket?: { ref?: () => void; unref?: () => void }
}

interface InternalServer {
  pool?: { connections?: Iterable<InternalConnection>; checkedOut?: Iterable<InternalConnection> }
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
 * Calls `each` with every TCP socket of a client: its pool connections (idle and checked out)
 * and its monitors'. A plain loop, no generator: this runs twice per invocation.
 */
const forEachSocket = (client: MongoClient, each: (socket: InternalSocket) => void): void => {
  const servers = topologyOf(client)?.s?.servers
  if (!servers) return
  for (const server of servers.values()) {
    const pool = server.pool
    for (const connection of pool?.connections ?? []) if (connection.socket) each(connection.socket)
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
