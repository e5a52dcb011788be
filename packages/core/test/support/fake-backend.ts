import {
  ClientPool,
  type ConnectFailure,
  type ConnectionAdapter,
  EventSink,
  type PoolOptions,
} from '../../src/index.js'

export const info = { packageName: '@middy-downstream/test' }

/**
 * An in-memory backend: the pool's logic (single flight, validation, retries, credentials) is
 * pure and tested here; the real drivers are tested against real servers in their packages.
 */
export class FakeClient {
  alive = true
  closed = false
  constructor(
    readonly id: number,
    readonly secret: string | undefined,
  ) {}
}

export const fakeBackend = (
  script: { failures?: ConnectFailure[]; acceptSecret?: string; hangMs?: number } = {},
) => {
  const failures = [...(script.failures ?? [])]
  const state = { connects: 0, pings: 0, destroyed: [] as number[], secrets: [] as (string | undefined)[] }
  const adapter: ConnectionAdapter<FakeClient> = {
    connect: async ({ secret }) => {
      state.connects += 1
      state.secrets.push(secret)
      if (script.hangMs) await new Promise((resolve) => setTimeout(resolve, script.hangMs))
      const failure = failures.shift()
      if (failure) throw Object.assign(new Error(`fake ${failure}`), { code: failure.toUpperCase() })
      if (script.acceptSecret !== undefined && secret !== script.acceptSecret) {
        throw Object.assign(new Error('fake access denied'), { code: 'AUTHENTICATION' })
      }
      return new FakeClient(state.connects, secret)
    },
    ping: async (client) => {
      state.pings += 1
      if (!client.alive) throw new Error('dead')
    },
    close: async (client) => {
      client.closed = true
    },
    destroy: (client) => {
      state.destroyed.push(client.id)
    },
    isBroken: (client) => client.closed,
    classifyConnectError: (error) =>
      (String((error as { code?: string }).code).toLowerCase() as ConnectFailure) ?? 'fatal',
  }
  return { adapter, state }
}

export const makePool = (
  adapter: ConnectionAdapter<FakeClient>,
  overrides: Partial<PoolOptions<FakeClient>> = {},
) =>
  new ClientPool<FakeClient>({
    packageName: '@middy-downstream/test',
    adapter,
    events: new EventSink('@middy-downstream/test', 'k'),
    sharing: 'exclusive',
    maxClients: 1,
    validateAfterIdleMs: 60_000,
    validateTimeoutMs: 100,
    connectTimeoutMs: 1_000,
    closeTimeoutMs: 100,
    retry: { strategy: 'full', baseMs: 1, capMs: 5, maxAttempts: 5 },
    ...overrides,
  })
