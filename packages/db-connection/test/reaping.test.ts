import { afterEach, describe, expect, test } from '@jest/globals'
import { FaultProxy, type MariaDbServer } from '@middy-downstream/testing'
import mysql, { type Connection } from 'mysql2/promise'
import {
  type AttributionMode,
  committedRows,
  environments,
  eventually,
  startAttributionServer,
  threadsOf,
} from './support.js'

const envs = environments()
const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await envs.closeAll()
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const start = async (mode: AttributionMode) => {
  const server = await startAttributionServer(mode)
  cleanups.push(() => server.dispose())
  return server
}

const app = { user: 'app', password: 'app-pw' }
type Stats = { counters: Record<string, number>; events: { type: string; reason?: string; count?: number }[] }

/** A reaper: an environment whose every release reads capacity and finds the server "too full". */
const reaperOptions = { utilizationThreshold: 0, capacityCheckIntervalMs: 0 }

/** An application outside Lambda on the same user and database: pooled connections, idle between queries. */
const otherApplication = async (server: MariaDbServer, count: number) => {
  const connections: Connection[] = []
  for (let i = 0; i < count; i++) {
    const connection = await mysql.createConnection({ ...server.config, ...app })
    connection.on('error', () => {})
    connections.push(connection)
  }
  cleanups.push(() => Promise.all(connections.map((c) => c.end().catch(() => c.destroy()))))
  const ids = await Promise.all(
    connections.map(async (c) =>
      Number(((await c.query('SELECT CONNECTION_ID() AS id'))[0] as { id: number }[])[0]?.id),
    ),
  )
  const alive = async () =>
    (await Promise.allSettled(connections.map((c) => c.query('SELECT 1')))).filter(
      (r) => r.status === 'fulfilled',
    ).length
  return { ids, alive }
}

/** Waits until every connection of `ids` has slept at least `seconds`. */
const idleAtLeast = (server: MariaDbServer, ids: number[], seconds: number) =>
  eventually(
    async () =>
      (await threadsOf(server, 'app')).filter(
        (t) => ids.includes(t.id) && t.command === 'Sleep' && t.time >= seconds,
      ).length === ids.length,
    20_000,
    `connections ${ids} idle for ${seconds} s`,
  )

/**
 * The connection of the transaction writing `note`, once it has written its first row (read
 * uncommitted); fails at once if the invocation ends first.
 */
const connectionOfTransaction = async (server: MariaDbServer, note: string, pending: Promise<unknown>) => {
  let id = 0
  let ended: unknown
  void pending.then((result) => {
    ended = result
  })
  await eventually(async () => {
    if (ended !== undefined) throw new Error(`the invocation ended first: ${JSON.stringify(ended)}`)
    await server.sql('SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED')
    const rows = await server.sql<{ id: number }[]>(
      'SELECT connection_id AS id FROM test.ledger WHERE note = ?',
      [note],
    )
    await server.sql('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ')
    id = Number(rows[0]?.id ?? 0)
    return id > 0
  })
  return id
}

/** Another function (`reports`, timeout 60 s) in a live transaction across a pause of `pauseMs`. */
const reportsTransaction = async (server: MariaDbServer, pauseMs: number) => {
  const reports = await envs.start(
    server,
    { functionTimeout: 60 },
    { ...app, timeoutMs: 60_000, functionName: 'reports' },
  )
  const pending = reports.invoke({ transaction: 'reports', pauseMs })
  return { pending, transactionId: await connectionOfTransaction(server, 'reports', pending) }
}

describe.each<AttributionMode>(['performance_schema on', 'performance_schema off'])('%s', (mode) => {
  test("a reaping release never kills another application's idle connections nor another function's live transaction", async () => {
    const server = await start(mode)
    const other = await otherApplication(server, 2)
    // Another function with a 60 s timeout, in a transaction across an 8 s pause.
    const { pending, transactionId } = await reportsTransaction(server, 8000)
    // This function's timeout is 3 s: before the fix, its floor for every candidate was 3 + 2 s.
    const reaper = await envs.start(server, reaperOptions, { ...app, timeoutMs: 3000 })
    await idleAtLeast(server, [...other.ids, transactionId], 5)
    expect(await reaper.invoke({})).toMatchObject({ ok: true })

    expect(await pending).toMatchObject({ ok: true })
    expect(await committedRows(server, 'reports')).toBe(2)
    expect(await other.alive()).toBe(2)
    const stats = await reaper.call<Stats>('stats')
    expect(stats.counters.reaped).toBe(0)
    // The reaper did try: with attribution it found no candidate; without, reaping is off and says so.
    const reason = mode === 'performance_schema on' ? 'fleet-marker' : 'unattributed'
    expect(stats.events).toContainEqual(expect.objectContaining({ type: 'reap', reason, count: 0 }))
  })

  test('an environment whose db-connection began late never kills a live transaction of its own fleet', async () => {
    const server = await start(mode)
    // A live invocation of `orders` (timeout 10 s) holds a transaction across a 7 s pause.
    const live = await envs.start(server, {}, { ...app, timeoutMs: 10_000 })
    const pending = live.invoke({ transaction: 'live', pauseMs: 7000 })
    const transactionId = await connectionOfTransaction(server, 'live', pending)
    await idleAtLeast(server, [transactionId], 1)
    // Another environment of `orders`: a slow middleware ran 3 s of its 4 s first, so db-connection
    // saw 1 s remaining. Before the fix that made its floor 3 s for every connection of the fleet.
    const reaper = await envs.start(server, reaperOptions, { ...app, timeoutMs: 4000 })
    expect(await reaper.invoke({ lateMs: 3000 })).toMatchObject({ ok: true })

    expect(await pending).toMatchObject({ ok: true })
    expect(await committedRows(server, 'live')).toBe(2)
    expect((await reaper.call<Stats>('stats')).counters.reaped).toBe(0)
  })
})

describe('performance_schema on', () => {
  test('a marker probe that timed out reaps nothing, is asked again, and never widens reaping to another fleet', async () => {
    const server = await start('performance_schema on')
    const proxy = await FaultProxy.start({ port: server.port })
    cleanups.push(() => proxy.close())
    // Another fleet's live transaction, idle for long.
    const { pending, transactionId } = await reportsTransaction(server, 10_000)
    // A zombie of this fleet, which declares a 1 s timeout.
    const zombie = await envs.start(server, { release: 'keep', functionTimeout: 1 }, app)
    const { value } = await zombie.invoke({})
    const zombieId = (value as { connectionId: number }).connectionId
    zombie.abandon()

    // The reaper's first pass (marker probe and candidate list, one statement) times out: its link
    // goes silent on exactly that statement.
    const reaper = await envs.start(
      proxy,
      { ...reaperOptions, functionTimeout: 5 },
      { ...app, timeoutMs: 5000 },
    )
    proxy.faultNext('mdd reap', 'blackhole')
    expect(await reaper.invoke({})).toMatchObject({ ok: true })
    expect((await reaper.call<Stats>('stats')).events).toContainEqual(
      expect.objectContaining({ type: 'reap', reason: 'attribution-unknown', count: 0 }),
    )
    // Before the fix, the failed probe had set this environment to "same user and database" for
    // good, with a floor of 5 + 2 s: the other fleet's transaction is idle longer than that.
    await idleAtLeast(server, [transactionId, zombieId], 7)
    expect(await reaper.invoke({})).toMatchObject({ ok: true })

    expect(await pending).toMatchObject({ ok: true })
    expect(await committedRows(server, 'reports')).toBe(2)
    expect((await threadsOf(server, 'app')).map((t) => t.id)).not.toContain(zombieId)
    expect((await reaper.call<Stats>('stats')).events).toContainEqual(
      expect.objectContaining({ type: 'reap', reason: 'fleet-marker', count: 1 }),
    )
  })

  test('a pass that finds no zombie does not read the process list again before one can exist', async () => {
    const server = await start('performance_schema on')
    // A zombie-to-be of this fleet (declares 1 s); with reapMinIdleSeconds 10 no connection can
    // be a candidate before it has slept 10 s, so the reaper's first pass (finding nothing) tells
    // it to stay quiet for 9 s.
    const zombie = await envs.start(server, { release: 'keep', functionTimeout: 1 }, app)
    const zombieId = ((await zombie.invoke({})).value as { connectionId: number }).connectionId
    zombie.abandon()
    const reaper = await envs.start(
      server,
      { ...reaperOptions, reapMinIdleSeconds: 10 },
      { ...app, timeoutMs: 5000 },
    )
    const passes = async () =>
      (await reaper.call<Stats>('stats')).events.filter(
        (e) => e.type === 'reap' && e.reason === 'fleet-marker',
      )
    expect(await reaper.invoke({})).toMatchObject({ ok: true })
    expect(await passes()).toEqual([expect.objectContaining({ count: 0 })])
    // Before, every release above the threshold read the process list again.
    expect(await reaper.invoke({})).toMatchObject({ ok: true })
    expect(await passes()).toHaveLength(1)
    // Once the zombie can be one, the next release reaps it.
    await idleAtLeast(server, [zombieId], 10)
    expect(await reaper.invoke({})).toMatchObject({ ok: true })
    expect(await passes()).toEqual([
      expect.objectContaining({ count: 0 }),
      expect.objectContaining({ count: 1 }),
    ])
    expect((await threadsOf(server, 'app')).map((t) => t.id)).not.toContain(zombieId)
  })

  test("each connection's floor is its owner's declared timeout, not the reaper's", async () => {
    const server = await start('performance_schema on')
    // Two zombies of one fleet: one declares 1 s, the other Lambda's maximum (no functionTimeout).
    const ids: number[] = []
    for (const options of [{ functionTimeout: 1 }, {}]) {
      const zombie = await envs.start(server, { release: 'keep', ...options }, app)
      ids.push(((await zombie.invoke({})).value as { connectionId: number }).connectionId)
      zombie.abandon()
    }
    const [short, long] = ids as [number, number]
    const reaper = await envs.start(server, reaperOptions, { ...app, timeoutMs: 5000 })
    await idleAtLeast(server, ids, 3)
    expect(await reaper.invoke({})).toMatchObject({ ok: true })
    const remaining = (await threadsOf(server, 'app')).map((t) => t.id)
    expect(remaining).not.toContain(short)
    expect(remaining).toContain(long)
  })

  test('a connection idle longer than its declared timeout (when another environment may have reaped it) is validated before reuse', async () => {
    const server = await start('performance_schema on')
    // validateAfterIdleMs stays at its default, 10 s: the declared 1 s lowers it.
    const environment = await envs.start(server, { release: 'keep', functionTimeout: 1 }, app)
    const { value } = await environment.invoke({})
    const id = (value as { connectionId: number }).connectionId
    await idleAtLeast(server, [id], 2)
    expect(await environment.invoke({})).toMatchObject({ ok: true })
    expect((await environment.call<Stats>('stats')).counters.validations).toBe(1)
  })
})
