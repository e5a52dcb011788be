import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { PostgresServer } from '@middy-downstream/testing'
import { diagnose } from '../src/index.js'
import { runCli } from './run-cli.js'

const password = 'Sup3r-Secret-pw'
let server: PostgresServer

beforeAll(async () => {
  server = await PostgresServer.start({ maxConnections: 30, settings: { superuser_reserved_connections: 4 } })
  // Two roles, two settings: one as created, one tuned the way the doctor recommends.
  await server.psql(`CREATE ROLE lambda LOGIN PASSWORD '${password}' CONNECTION LIMIT 9`)
  await server.psql(`CREATE ROLE tuned LOGIN PASSWORD '${password}' CONNECTION LIMIT 5`)
  await server.psql("ALTER ROLE tuned SET idle_session_timeout = '300s'")
  await server.psql("ALTER ROLE tuned SET idle_in_transaction_session_timeout = '32s'")
}, 60_000)
afterAll(async () => {
  await server?.dispose()
})

const url = (role: string) => `postgres://${role}:${password}@${server.host}:${server.port}/postgres`

describe('doctor on PostgreSQL', () => {
  it('prints the report with the reserved connections, the role limit and the marker', async () => {
    const { code, stdout, stderr } = await runCli('doctor', url('lambda'), '--timeout', '30')
    expect(code).toBe(0)
    expect(stdout).toMatch(/reserved\s+4 \(superuser_reserved_connections\)/)
    expect(stdout).toMatch(/user limit\s+9/)
    expect(stdout).toMatch(/fleet marker\s+readable \(pg_stat_activity.application_name\)/)
    expect(stdout).toMatch(/largest safe reserved concurrency\s+8/)
    expect(stdout).toContain(`ALTER ROLE "lambda" SET idle_session_timeout = '300s'`)
    expect(stdout).toContain(`ALTER ROLE "lambda" SET idle_in_transaction_session_timeout = '32s'`)
    expect(stderr).toContain('doctor: reading connections by user and state')
    expect(stdout + stderr).not.toContain(password)
  })

  it('a role already tuned gets no idle-timeout changes', async () => {
    const { facts, advice } = await diagnose(url('tuned'), { timeoutSeconds: 30 })
    expect(facts.idle).toMatchObject({ idle_session_timeout: 300, idle_in_transaction_session_timeout: 32 })
    expect(facts.userLimit).toBe(5)
    expect(advice.changes.join('\n')).not.toMatch(/idle_/)
    expect(advice.reapingMode).toBe('fleet-marker')
  })

  it('the superuser: reserved connections within max_connections, others counted', async () => {
    const { facts, advice } = await diagnose(`postgres://postgres@${server.host}:${server.port}/postgres`)
    expect(facts).toMatchObject({ userIsAdmin: true, userLimit: null, maxConnections: 30 })
    expect(facts.reserved).toMatchObject({ count: 4, withinMax: true })
    expect(advice.budget).toBe(26)
    expect(advice.changes.join('\n')).toContain('CONNECTION LIMIT 26')
  })

  it('bad flags: the usage, exit code 2, the URL not echoed', async () => {
    const { code, stderr } = await runCli('doctor', url('lambda'), '--timeout', 'soon')
    expect(code).toBe(2)
    expect(stderr).toContain('--timeout needs a positive number')
    expect(stderr).toContain('usage: middy-downstream-doctor doctor')
    expect(stderr).not.toContain(password)
    expect((await runCli('diagnose', url('lambda'))).code).toBe(2)
  })
})
