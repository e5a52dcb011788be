/** How a connect failure is handled: retried (capacity, network), refreshed once (auth), or final. */
export type ConnectFailure = 'capacity' | 'network' | 'authentication' | 'fatal'

/**
 * What a backend supplies; core supplies single-flight opening, retries inside the deadline,
 * validation after idle, release, disposal, events and errors.
 *
 * @example
 * const adapter: ConnectionAdapter<Connection> = {
 *   connect: ({ secret, timeoutMs }) => mysql.createConnection({ ...config, password: secret, connectTimeout: timeoutMs }),
 *   ping: (c, timeoutMs) => c.query({ sql: 'SELECT 1', timeout: timeoutMs }),
 *   close: (c) => c.end(),
 *   destroy: (c) => c.destroy(),
 *   isBroken: (c) => c.connection._fatalError !== null,
 *   classifyConnectError: (e) => (e.errno === 1040 ? 'capacity' : 'fatal'),
 * }
 */
export interface ConnectionAdapter<TClient> {
  /** Opens one client; `timeoutMs` is already bounded by the invocation's deadline. */
  connect(args: { secret: string | undefined; timeoutMs: number; attempt: number }): Promise<TClient>
  /** A cheap round trip that rejects when the client is dead. */
  ping(client: TClient, timeoutMs: number): Promise<unknown>
  /** Graceful close (QUIT); core bounds it in time and destroys the client if it takes longer. */
  close(client: TClient): Promise<unknown>
  /** Hard close: drop the socket now. */
  destroy(client: TClient): void
  /** True when the client already knows it is unusable (socket closed, fatal error seen). */
  isBroken(client: TClient): boolean
  classifyConnectError(error: unknown): ConnectFailure
  /**
   * Returns a kept client to a clean state after an invocation that left state on it (session
   * variables, locks, an open MULTI). Rejects when it cannot: the client is then destroyed.
   */
  reset?(client: TClient, timeoutMs: number): Promise<unknown>
  /**
   * References (in use) or unreferences (idle) the client's sockets: an idle kept connection must
   * not keep a script or a callback-style invocation alive.
   */
  setRef?(client: TClient, ref: boolean): void
}
