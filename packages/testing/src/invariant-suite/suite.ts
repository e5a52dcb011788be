import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { inspect } from 'node:util'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals'
import middy, { type MiddlewareObj } from '@middy/core'
import { fakeContext } from '@middy-downstream/lambda-sim'
import type { InvariantFixture } from './fixture.js'

type Ctx = Record<string, unknown>

const context = (timeoutMs = 5_000): Ctx => fakeContext({ timeoutMs }) as unknown as Ctx
/** A context without a clock: a container, a test, a script. */
const clocklessContext = (): Ctx => ({ awsRequestId: 'no-clock', functionName: 'no-clock' })

/**
 * Referenced sockets to the given server ports: what keeps a script (or a callback-style
 * invocation) alive. Node lists only referenced handles as active.
 */
const referencedSocketsTo = (ports: number[]) =>
  (process as unknown as { _getActiveHandles(): Array<{ remotePort?: number }> })
    ._getActiveHandles()
    .filter((handle) => handle.remotePort !== undefined && ports.includes(handle.remotePort)).length

/** Fails instead of hanging: the invariant is that the invocation finishes. */
const within = <T>(ms: number, what: string, promise: Promise<T>): Promise<T> => {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** The public diagnostics_channel every package publishes its lifecycle events on. */
const lifecycleChannelName = 'middy-downstream:lifecycle'

const errorKind = (error: unknown) => (error as { kind?: string })?.kind
const errorName = (error: unknown) => (error as { name?: string })?.name

/**
 * The invariants every connection package keeps, whatever its backend: nothing carried from one
 * invocation into the next, no secret in anything a user logs, no invocation outliving its
 * deadline. A package runs it with its fixture:
 *
 * @example
 * runInvariantSuite(mariaDbFixture())
 */
export const runInvariantSuite = <THandle>(fixture: InvariantFixture<THandle>): void => {
  const { throwMidUnit, raceUnitAndPlain, unitsNotApplicable } = fixture
  if ((!throwMidUnit || !raceUnitAndPlain) && !unitsNotApplicable) {
    throw new TypeError(
      `invariant fixture ${fixture.name}: give throwMidUnit and raceUnitAndPlain, or say why not in unitsNotApplicable`,
    )
  }
  const handleOf = (ctx: Ctx) => ctx[fixture.contextKey] as THandle
  let made: ReturnType<InvariantFixture['create']>
  const handlerWith = <T>(work: (handle: THandle, ctx: Ctx) => Promise<T>, before: object[] = []) => {
    const chain = middy<unknown, unknown>()
    chain.use(made.middleware as never)
    for (const m of before) chain.use(m as never)
    const handler = chain.handler(async (_event: unknown, ctx: unknown) =>
      work(handleOf(ctx as Ctx), ctx as Ctx),
    )
    return (event: unknown, ctx: Ctx) => handler(event, ctx as never) as Promise<T>
  }

  const gaps = [
    unitsNotApplicable && `no unit cases: ${unitsNotApplicable}`,
    fixture.stateNotApplicable && `no state case: ${fixture.stateNotApplicable}`,
  ].filter(Boolean)
  const title =
    gaps.length > 0 ? `invariants: ${fixture.name} (${gaps.join('; ')})` : `invariants: ${fixture.name}`
  describe(title, () => {
    beforeAll(() => fixture.setup())
    afterAll(() => fixture.teardown())
    beforeEach(() => {
      made = fixture.create()
    })
    afterEach(() => fixture.dispose())

    test('a handle used after its invocation ended fails at once and takes nothing', async () => {
      let stashed: THandle | undefined
      const leaky = handlerWith(async (handle) => {
        stashed = handle
        return fixture.use(handle)
      })
      for (let i = 0; i < 6; i++) {
        await leaky({}, context())
        const late = await fixture.use(stashed as THandle).catch((error: unknown) => error)
        expect(errorName(late)).toBe('ReleasedError')
        expect(errorKind(late)).toBe('released')
      }
      const ok = handlerWith((handle) => fixture.use(handle))
      await expect(within(10_000, 'the next invocation', ok({}, context()))).resolves.toBeTruthy()
    })

    test.each([
      ['with a clock', () => context()],
      ['without a clock', clocklessContext],
    ])('an early return by a later middleware is released (%s)', async (_label, makeContext) => {
      let ctxRef: Ctx | undefined
      const earlyReturn = {
        before: async (request: { context: Ctx }) => {
          ctxRef = request.context
          await fixture.use(handleOf(request.context))
          return { statusCode: 401 }
        },
      }
      const rejecting = handlerWith(async () => 'never', [earlyReturn])
      for (let i = 0; i < 6; i++) {
        expect(await within(10_000, `early return ${i + 1}`, rejecting({}, makeContext()))).toEqual({
          statusCode: 401,
        })
      }
      expect(ctxRef).toBeDefined()
      const ok = handlerWith((handle) => fixture.use(handle))
      await expect(
        within(10_000, 'the invocation after early returns', ok({}, makeContext())),
      ).resolves.toBeTruthy()
      // The early-returned handles are released now: using one fails at once.
      const late = await fixture.use(handleOf(ctxRef as Ctx)).catch((error: unknown) => error)
      expect(errorName(late)).toBe('ReleasedError')
    })

    if (throwMidUnit) {
      test('a handler that throws mid-unit leaves nothing behind', async () => {
        const marker = `mid-${Date.now()}`
        const throwing = handlerWith((handle) => throwMidUnit(handle, marker))
        await expect(throwing({}, context())).rejects.toThrow()
        const check = handlerWith(async (handle) => ({
          written: await fixture.written(handle, marker),
          works: await fixture.use(handle),
        }))
        expect(await check({}, context())).toEqual({ written: false, works: expect.anything() })
      })
    }

    test('concurrent use inside one invocation: all succeed', async () => {
      const racing = handlerWith(async (handle) =>
        Promise.all(Array.from({ length: 10 }, () => fixture.use(handle))),
      )
      const many = await racing({}, context())
      expect(many.every(Boolean)).toBe(true)
    })

    if (raceUnitAndPlain) {
      test('a unit never swallows a plain write started next to it', async () => {
        const marker = `race-${Date.now()}`
        const plain = `plain-${Date.now()}`
        const racing = handlerWith((handle) => raceUnitAndPlain(handle, marker, plain))
        const settled = await racing({}, context())
        const check = handlerWith(async (handle) => fixture.written(handle, plain))
        const plainKept = await check({}, context())
        // The plain write either happened, or was refused with an error: never reported done and lost.
        if (settled[1]?.status === 'fulfilled') expect(plainKept).toBe(true)
        else expect(plainKept).toBe(false)
      })
    }

    // Not registered (rather than skipped) where the fixture states why, in the suite's title.
    if (!fixture.stateNotApplicable)
      test('state left by one invocation is gone in the next', async () => {
        const leave = handlerWith((handle) => fixture.leaveState(handle))
        await leave({}, context())
        const look = handlerWith((handle) => fixture.stateVisible(handle))
        expect(await look({}, context())).toBe(false)
      })

    test('no secret in a logged context, handle or exported object', async () => {
      const logged: string[] = []
      const handler = handlerWith(async (handle, ctx) => {
        await fixture.use(handle)
        logged.push(JSON.stringify(ctx), inspect(ctx), inspect(ctx, { depth: 6 }), JSON.stringify(handle))
        return 'ok'
      })
      await handler({}, context())
      for (const object of made.exported)
        logged.push(JSON.stringify(object) ?? '', inspect(object, { depth: 6 }))
      logged.push(inspect(made.middleware, { depth: 6 }))
      for (const text of logged) expect(text).not.toContain(fixture.secret)
    })

    test('a command in flight at the deadline fails before the timeout and nothing arrives later', async () => {
      await fixture.serverConnections()
      const baseline = referencedSocketsTo(fixture.ports())
      const slow = handlerWith((handle) => fixture.slowCommand(handle, 4_000))
      const started = Date.now()
      const error = await slow({}, context(1_500)).catch((e: unknown) => e)
      expect(errorName(error)).toBe('DeadlineError')
      expect(Date.now() - started).toBeLessThan(1_500)
      // Its socket was destroyed, not left waiting for the server's late answer.
      expect(referencedSocketsTo(fixture.ports())).toBeLessThanOrEqual(baseline)
      // The connection was dropped at the deadline: the next invocation gets a working client.
      const ok = handlerWith((handle) => fixture.use(handle))
      await expect(ok({}, context())).resolves.toBeTruthy()
    })

    test('a warm invocation that keeps its client gives it back at once: after returns nothing to await', async () => {
      const warm = handlerWith((handle) => fixture.use(handle))
      await warm({}, context())
      const middleware = made.middleware as unknown as Required<MiddlewareObj>
      const request = { event: {}, context: context(), response: undefined, error: undefined, internal: {} }
      await middleware.before(request as never)
      await fixture.use(handleOf(request.context))
      // Middy 7 awaits only a promise: a kept client costs the invocation no turn.
      expect(middleware.after(request as never)).toBeUndefined()
      const late = await fixture.use(handleOf(request.context)).catch((error: unknown) => error)
      expect(errorName(late)).toBe('ReleasedError')
    })

    test('after release no socket of ours holds the process', async () => {
      // The harness's own admin connection (if any) is open before the baseline is read.
      await fixture.serverConnections()
      const baseline = referencedSocketsTo(fixture.ports())
      const handler = handlerWith((handle) => fixture.use(handle))
      await handler({}, context())
      expect(await fixture.serverConnections()).toBeGreaterThan(0)
      expect(referencedSocketsTo(fixture.ports())).toBe(baseline)
      await handler({}, clocklessContext())
      expect(referencedSocketsTo(fixture.ports())).toBe(baseline)
    })

    test("an invocation's events name it: the release and every client event carry its request id", async () => {
      const seen: Array<{ type: string; awsRequestId?: string }> = []
      const listener = (event: unknown) => seen.push(event as { type: string; awsRequestId?: string })
      subscribe(lifecycleChannelName, listener)
      try {
        const handler = handlerWith((handle) => fixture.use(handle))
        for (const id of ['req-first', 'req-second']) {
          const ctx = context()
          ctx.awsRequestId = id
          seen.length = 0
          await handler({}, ctx)
          const ofClients = seen.filter((e) => ['open', 'reuse', 'release'].includes(e.type))
          expect(ofClients.map((e) => e.type)).toContain('release')
          for (const event of ofClients) expect(event).toMatchObject({ awsRequestId: id })
        }
      } finally {
        unsubscribe(lifecycleChannelName, listener)
      }
    })

    test.each(fixture.badOptions)(
      'bad options are refused at construction: %s',
      (_description, build, message) => {
        expect(build).toThrow(TypeError)
        expect(build).toThrow(message)
      },
    )
  })
}
