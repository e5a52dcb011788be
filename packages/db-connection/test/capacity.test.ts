import { afterEach, describe, expect, test } from '@jest/globals'
import { MariaDbServer } from '@middy-downstream/testing'
import mysql, { type Connection } from 'mysql2/promise'
import { createAppUser, environments, eventually, threadsOf } from './support.js'

const envs = environments()
const servers: MariaDbServer[] = []
const held: Connection[] = []
afterEach(async () => {
  await envs.closeAll()
  await Promise.all(held.splice(0).map((c) => c.end().catch(() => c.destroy())))
  await Promise.all(servers.splice(0).map((s) => s.dispose()))
})

const startServer = async (extraArgs: string[] = []) => {
  const server = await MariaDbServer.start({ maxConnections: 10, extraArgs })
  servers.push(server)
  await createAppUser(server, 'app', 'app-pw')
  await createAppUser(server, 'other', 'other-pw')
  return server
}

/** Opens connections as another application would: idle, but live. */
const holdConnections = async (server: MariaDbServer, user: string, password: string, count: number) => {
  for (let i = 0; i < count; i++) {
    held.push(
      await mysql.createConnection({ ...server.config, user, password, connectAttributes: { app: 'other' } }),
    )
  }
}

type Stats = { counters: Record<string, number>; events: { type: string; reason?: string; count?: number }[] }
const app = { user: 'app', password: 'app-pw' }

describe('a full server', () => {
  test("held full by another application: retries, then a clear capacity error inside the remaining time; the other application's connections survive", async () => {
    const server = await startServer()
    // With the test's own admin connection, nine of them fill max_connections 10.
    await holdConnections(server, 'other', 'other-pw', 9)
    const others = (await threadsOf(server, 'other')).map((t) => t.id)
    expect(others).toHaveLength(9)
    const timeoutMs = 2000
    const environment = await envs.start(server, {}, { ...app, timeoutMs })
    const result = await environment.invoke({})
    expect(result.ok).toBe(false)
    expect(result.timedOut).toBeUndefined()
    expect(result.error).toMatchObject({ name: 'CapacityError', code: 'ER_CON_COUNT_ERROR', errno: 1040 })
    expect(result.error?.message).toContain('no free connections')
    expect(result.durationMs).toBeLessThan(timeoutMs)
    const stats = await environment.call<Stats>('stats')
    expect(stats.counters.retries).toBeGreaterThan(2)
    expect((await threadsOf(server, 'other')).map((t) => t.id)).toEqual(others)
  })

  test('a connection opened after the server refused it for capacity is closed at release, without reading capacity again', async () => {
    const server = await startServer()
    await holdConnections(server, 'other', 'other-pw', 9)
    const environment = await envs.start(server, {}, { ...app, timeoutMs: 10_000 })
    const pending = environment.invoke({})
    // Once the server has refused the invocation's connect, the other application gives one back.
    const refusedBefore = await server.status('Aborted_connects')
    await eventually(async () => (await server.status('Aborted_connects')) > refusedBefore)
    await held.pop()?.end()
    expect(await pending).toMatchObject({ ok: true })
    const stats = await environment.call<Stats & { events: { action?: string }[] }>('stats')
    // The refusal already said the server is full: closed for it, not after a capacity read.
    expect(stats.events.filter((e) => e.type === 'release')).toEqual([
      expect.objectContaining({ action: 'close', reason: 'refused-at-connect' }),
    ])
    await eventually(async () => (await threadsOf(server, 'app')).length === 0)
  })

  test("held full by this fleet's frozen environments: reaping frees a slot and the invocation succeeds", async () => {
    // Reaping needs the server to attribute connections to their owners (performance_schema).
    const server = await startServer(['--performance-schema=ON'])
    await server.sql("GRANT SELECT ON performance_schema.* TO 'app'@'%'")
    // A warm environment of the function, kept while the server was nearly empty.
    const warm = await envs.start(
      server,
      { capacityCheckIntervalMs: 0, functionTimeout: 3 },
      { ...app, timeoutMs: 3000 },
    )
    expect(await warm.invoke({})).toMatchObject({ ok: true })
    // Eight reclaimed environments left their connections behind, frozen forever: with the test's
    // admin connection the server is full.
    for (let i = 0; i < 8; i++) {
      const zombie = await envs.start(server, { release: 'keep', functionTimeout: 1 }, app)
      expect(await zombie.invoke({})).toMatchObject({ ok: true })
      zombie.abandon()
    }
    expect(await threadsOf(server, 'app')).toHaveLength(9)
    expect(await server.status('Threads_connected')).toBe(10)

    // A new environment cannot connect and retries...
    const fresh = await envs.start(server, {}, { ...app, timeoutMs: 10_000 })
    const pending = fresh.invoke({})
    // ...until the zombies have slept longer than any invocation of their function can last
    // (its declared timeout 1 s + 2 s), and the warm environment's next release reaps them.
    await eventually(
      async () =>
        (await threadsOf(server, 'app')).filter((t) => t.command === 'Sleep' && t.time >= 3).length >= 3,
      15_000,
      'zombies older than the reaping floor',
    )
    expect(await warm.invoke({})).toMatchObject({ ok: true })
    expect(await pending).toMatchObject({ ok: true })
    const reaped = (await warm.call<Stats>('stats')).counters.reaped
    expect(reaped).toBeGreaterThanOrEqual(1)
    expect(reaped).toBeLessThanOrEqual(3)
  })

  test("a live invocation's connection idle between two queries is never reaped", async () => {
    const server = await startServer()
    // A live invocation of a 5 s function: idle 3.5 s between its two queries.
    const live = await envs.start(server, { release: 'keep' }, { ...app, timeoutMs: 5000 })
    const pending = live.invoke({ pauseMs: 3500 })
    // An environment of the same function releasing with utilization always "too high".
    const reaper = await envs.start(
      server,
      { utilizationThreshold: 0, capacityCheckIntervalMs: 0 },
      { ...app, timeoutMs: 5000 },
    )
    expect(await reaper.invoke({})).toMatchObject({ ok: true })
    await eventually(
      async () => (await threadsOf(server, 'app')).some((t) => t.command === 'Sleep' && t.time >= 3),
      10_000,
      'the live connection to be idle for 3 s (serverless-mysql reaps at 3 s)',
    )
    expect(await reaper.invoke({})).toMatchObject({ ok: true })
    expect(await pending).toMatchObject({ ok: true })
    expect((await reaper.call<Stats>('stats')).counters.reaped).toBe(0)
    expect((await live.call<Stats>('stats')).counters).toMatchObject({ opens: 1, errors: 0 })
  })

  test('where the server shows connection attributes, only connections marked with this fleet are reaped', async () => {
    const server = await startServer(['--performance-schema=ON'])
    // Reading connection attributes needs SELECT on performance_schema (see the README).
    await server.sql("GRANT SELECT ON performance_schema.* TO 'app'@'%'")
    // Another application with the same user and database, idle for long: not ours to kill.
    await holdConnections(server, 'app', 'app-pw', 2)
    const others = (await threadsOf(server, 'app')).map((t) => t.id)
    const zombie = await envs.start(
      server,
      { release: 'keep', functionTimeout: 1 },
      { ...app, functionName: 'orders' },
    )
    const { value } = await zombie.invoke({})
    const zombieId = (value as { connectionId: number }).connectionId
    zombie.abandon()
    const reaper = await envs.start(
      server,
      { utilizationThreshold: 0, capacityCheckIntervalMs: 0 },
      { ...app, timeoutMs: 5000, functionName: 'orders' },
    )
    expect(await reaper.invoke({})).toMatchObject({ ok: true })
    await eventually(
      async () => (await threadsOf(server, 'app')).filter((t) => t.time >= 3).length >= 3,
      15_000,
      'all idle connections older than the floor',
    )
    expect(await reaper.invoke({})).toMatchObject({ ok: true })
    const remaining = (await threadsOf(server, 'app')).map((t) => t.id)
    expect(remaining).not.toContain(zombieId)
    expect(remaining).toEqual(expect.arrayContaining(others))
    const stats = await reaper.call<Stats>('stats')
    expect(stats.events).toContainEqual(
      expect.objectContaining({ type: 'reap', reason: 'fleet-marker', count: 1 }),
    )
  })
})
