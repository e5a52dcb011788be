import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { MariaDbServer } from '@middy-downstream/testing'
import { diagnose } from '../src/index.js'
import { runCli } from './run-cli.js'

const password = 'Sup3r-Secret-pw'
let plain: MariaDbServer
let instrumented: MariaDbServer

beforeAll(async () => {
  // Two settings: performance_schema off (MariaDB's default) and on.
  ;[plain, instrumented] = await Promise.all([
    MariaDbServer.start({ maxConnections: 40, waitTimeout: 3600 }),
    MariaDbServer.start({ maxConnections: 25, waitTimeout: 200, extraArgs: ['--performance-schema=ON'] }),
  ])
  for (const server of [plain, instrumented]) {
    await server.sql(`CREATE USER 'lambda'@'%' IDENTIFIED BY '${password}' WITH MAX_USER_CONNECTIONS 12`)
    await server.sql("GRANT ALL ON test.* TO 'lambda'@'%'")
  }
  await instrumented.sql("GRANT SELECT ON performance_schema.* TO 'lambda'@'%'")
}, 120_000)
afterAll(async () => {
  await Promise.all([plain?.dispose(), instrumented?.dispose()])
})

const lambdaUrl = (server: MariaDbServer) => `mysql://lambda:${password}@${server.host}:${server.port}/test`
const rootUrl = (server: MariaDbServer) => `mysql://root@${server.host}:${server.port}/test`

describe('doctor on MariaDB', () => {
  it('prints the report, progress on stderr, and never the password', async () => {
    const { code, stdout, stderr } = await runCli('doctor', lambdaUrl(plain), '--timeout', '30')
    expect(code).toBe(0)
    expect(stdout).toContain(`mysql://lambda@${plain.host}:${plain.port}/test`)
    expect(stdout).toMatch(/max_connections\s+40/)
    expect(stdout).toMatch(/user limit\s+12/)
    expect(stdout).toMatch(/fleet marker\s+not readable .*performance_schema is OFF/)
    expect(stdout).toMatch(/largest safe reserved concurrency\s+10/)
    expect(stdout).toMatch(/recommended wait_timeout for the Lambda user\s+300 s/)
    expect(stdout).toContain('fallback: same user and database')
    expect(stdout).toContain('lower wait_timeout from 3600 s to 300 s')
    expect(stderr).toMatch(/doctor: connecting to mysql:\/\/lambda@/)
    expect(stderr).toContain('doctor: checking the fleet marker')
    expect(stdout + stderr).not.toContain(password)
  })

  it('--json: the facts and the advice, scaled by connections per environment', async () => {
    const { code, stdout } = await runCli('doctor', lambdaUrl(plain), '--json', '--connections-per-env', '2')
    expect(code).toBe(0)
    const { facts, advice } = JSON.parse(stdout)
    expect(facts).toMatchObject({
      engine: 'mariadb',
      user: 'lambda',
      maxConnections: 40,
      userLimit: 12,
      userIsAdmin: false,
      allUsersVisible: false,
      idle: { wait_timeout: 3600 },
      tls: { inUse: false },
    })
    // 12 allowed, 2 kept as headroom, 2 per environment.
    expect(advice).toMatchObject({ budget: 12, headroom: 2, safeReservedConcurrency: 5 })
    expect(advice.recommendedWaitTimeout).toBeUndefined()
    expect(stdout).not.toContain(password)
  })

  it('with performance_schema on, the fleet marker is readable and reaping uses it', async () => {
    const { facts, advice } = await diagnose(lambdaUrl(instrumented), { timeoutSeconds: 30 })
    expect(facts.fleetMarker.readable).toBe(true)
    expect(advice.reapingMode).toBe('fleet-marker')
    // wait_timeout 200 is already below the recommendation: nothing to lower.
    expect(advice.changes.join('\n')).not.toContain('wait_timeout')
  })

  it('an administrator user without a limit: use another user, and cap it', async () => {
    const { facts, advice } = await diagnose(rootUrl(instrumented), { timeoutSeconds: 900 })
    expect(facts.userIsAdmin).toBe(true)
    expect(facts.allUsersVisible).toBe(true)
    // root's own connections (the doctor's and the test harness's) are the fleet's, not others'.
    expect(advice.budget).toBe(25)
    expect(advice.recommendedWaitTimeout).toBe(960)
    const changes = advice.changes.join('\n')
    expect(changes).toContain('without SUPER')
    expect(changes).toContain("ALTER USER 'root'@'")
  })

  it('a wrong password fails with the server’s message, exit code 1, and no password', async () => {
    const wrong = 'Wr0ng-Passw0rd-x'
    const { code, stdout, stderr } = await runCli(
      'doctor',
      `mysql://lambda:${wrong}@${plain.host}:${plain.port}/test`,
    )
    expect(code).toBe(1)
    expect(stderr).toMatch(/Access denied for user 'lambda'/)
    expect(stdout + stderr).not.toContain(wrong)
  })
})
