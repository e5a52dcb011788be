import { afterAll, describe, expect, test } from '@jest/globals'
import mysql from 'mysql2/promise'
import { MariaDbServer, PostgresServer, RedisServer } from '../src/index.js'

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T | 'timed out'> =>
  Promise.race([
    promise,
    new Promise<'timed out'>((resolve) => setTimeout(() => resolve('timed out'), ms).unref()),
  ])

describe('MariaDbServer', () => {
  let server: MariaDbServer
  afterAll(() => server?.dispose())

  test('starts with the knobs asked for, restarts on the same port, and freezes', async () => {
    server = await MariaDbServer.start({ maxConnections: 12, waitTimeout: 7 })
    const rows = await server.sql<{ max: number; wait: number }[]>(
      'SELECT @@GLOBAL.max_connections AS max, @@GLOBAL.wait_timeout AS wait',
    )
    expect(rows[0]).toEqual({ max: 12, wait: 7 })

    const client = await mysql.createConnection(server.config)
    const pid = server.pid
    await server.restart()
    expect(server.pid).not.toBe(pid)
    await expect(client.query('SELECT 1')).rejects.toThrow()
    client.destroy()
    expect(await server.status('Threads_connected')).toBeGreaterThanOrEqual(1)

    server.freeze()
    const pending = mysql.createConnection({ ...server.config, connectTimeout: 60_000 })
    expect(await withTimeout(pending, 300)).toBe('timed out')
    server.thaw()
    const thawed = await pending
    expect(await thawed.query('SELECT 1 AS one')).toEqual([[{ one: 1 }], expect.anything()])
    await thawed.end()
  })
})

describe('RedisServer', () => {
  let server: RedisServer
  afterAll(() => server?.dispose())

  test('applies timeout and requirepass, rotates the password, and stops', async () => {
    server = await RedisServer.start({ timeout: 3, requirepass: 'first-secret' })
    expect(await server.cli('CONFIG', 'GET', 'timeout')).toBe('timeout\n3')
    await server.setPassword('second-secret')
    expect(server.password).toBe('second-secret')
    expect(await server.cli('PING')).toBe('PONG')
    expect(await server.info('total_connections_received')).toBeGreaterThan(0)
    await server.stop()
    expect(server.running).toBe(false)
    await expect(server.cli('PING')).rejects.toThrow()
  })
})

describe('PostgresServer', () => {
  let server: PostgresServer
  afterAll(() => server?.dispose())

  test('starts as the postgres user with the connection limit asked for', async () => {
    server = await PostgresServer.start({ maxConnections: 15 })
    expect(await server.psql('SHOW max_connections')).toBe('15')
    await server.restart()
    expect(await server.psql('SELECT 41 + 1')).toBe('42')
  })
})
