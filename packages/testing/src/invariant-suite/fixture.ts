import type { MiddlewareObj } from '@middy/core'

/**
 * What a connection package gives the invariant suite: how to build its middleware, and a few
 * backend-specific moves on its handle. Everything else (the invocations, the assertions) is the
 * suite's, so every backend is held to the same invariants.
 */
export interface InvariantFixture<THandle = unknown> {
  /** For test names, e.g. `db-connection (MariaDB)`. */
  name: string
  /** Where the handle goes on the context. */
  contextKey: string
  /** The password or token the middleware was given: it must appear in nothing a user logs. */
  secret: string
  /** Starts the server(s). */
  setup(): Promise<void>
  teardown(): Promise<void>
  /**
   * A middleware over a fresh managed client (its own registry key), and the objects the package
   * exports for it (a managed connection, a client) that a user might log.
   */
  create(): { middleware: MiddlewareObj<never, never, Error, never>; exported: object[] }
  /** Closes what `create` made. */
  dispose(): Promise<void>
  /** One ordinary command on the handle; resolves with something truthy. */
  use(handle: THandle): Promise<unknown>
  /** The server's TCP ports: sockets to them must not be referenced between invocations. */
  ports(): number[]
  /** Connections the server sees from this fixture's user now. */
  serverConnections(): Promise<number>
  /** Leaves session state on the client (a variable, a selected database…). */
  leaveState(handle: THandle): Promise<void>
  /** Whether the state `leaveState` left is visible to this handle. */
  stateVisible(handle: THandle): Promise<boolean>
  /**
   * Opens a unit (transaction, MULTI), writes `marker` inside it, then throws. Absent only with
   * `unitsNotApplicable`.
   */
  throwMidUnit?(handle: THandle, marker: string): Promise<never>
  /**
   * Runs a unit that writes `marker` then throws, concurrently with a plain write of
   * `plainMarker` on the handle itself; settles both. Absent only with `unitsNotApplicable`.
   */
  raceUnitAndPlain?(
    handle: THandle,
    marker: string,
    plainMarker: string,
  ): Promise<PromiseSettledResult<unknown>[]>
  /**
   * Why the backend (or its test server) has no unit that rolls back, when `throwMidUnit` and
   * `raceUnitAndPlain` are absent: the suite then runs neither unit case, and says so in a test
   * name, so the gap is visible in every run instead of hidden in a fake test.
   */
  unitsNotApplicable?: string
  /** Whether `marker` was written and kept (committed, stored). */
  written(handle: THandle, marker: string): Promise<boolean>
  /** A command that blocks server-side for `ms` (SLEEP, BLPOP). */
  slowCommand(handle: THandle, ms: number): Promise<unknown>
  /**
   * Why session state cannot apply (a connectionless backend such as the Aurora Data API has no
   * session of its own, and cannot reset the service's connections): the suite then runs no state
   * case and says so in a test name, like `unitsNotApplicable`.
   */
  stateNotApplicable?: string
  /** Options that must be refused at construction, each with a fragment of the expected message. */
  badOptions: Array<[description: string, build: () => unknown, message: string | RegExp]>
}
