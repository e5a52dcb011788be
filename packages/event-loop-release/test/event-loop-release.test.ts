import { execFileSync } from 'node:child_process'
import net from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals'
import middy from '@middy/core'
import { fakeContext } from '@middy-downstream/testing'
import type { Context } from 'aws-lambda'
import eventLoopRelease, {
  type LeftoverReport,
  releaseEventLoop,
  runtimeNodeMajor,
  runtimeTakesCallbacks,
} from '../src/index.js'

/** Runs the tests of a block as if Lambda's runtime were Node.js `major` (what Lambda sets). */
const onRuntime = (major: number) => {
  let saved: string | undefined
  beforeAll(() => {
    saved = process.env.AWS_EXECUTION_ENV
    process.env.AWS_EXECUTION_ENV = `AWS_Lambda_nodejs${major}.x`
  })
  afterAll(() => {
    if (saved === undefined) delete process.env.AWS_EXECUTION_ENV
    else process.env.AWS_EXECUTION_ENV = saved
  })
}

// The upstream lives in this process too: its side of each connection must be closed as well.
let server: net.Server
const serverSides = new Map<number, net.Socket>()
beforeAll(async () => {
  server = net.createServer((socket) => {
    socket.on('error', () => {})
    serverSides.set(socket.remotePort!, socket)
    server.emit('accepted', socket.remotePort)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
})
afterAll(() => new Promise((resolve) => server.close(resolve)))

const openSocket = () =>
  new Promise<net.Socket>((resolve) => {
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1', () => resolve(socket))
  })
const serverSideOf = async (socket: net.Socket): Promise<net.Socket> => {
  const port = socket.localPort!
  while (!serverSides.has(port)) await new Promise((resolve) => server.once('accepted', resolve))
  return serverSides.get(port)!
}
const closeSocket = async (socket: net.Socket) => {
  const serverSide = await serverSideOf(socket)
  const bothClosed = Promise.all(
    [socket, serverSide].map((s) => new Promise((resolve) => s.once('close', resolve))),
  )
  socket.destroy()
  serverSide.destroy()
  await bothClosed
}

describe('the flag', () => {
  onRuntime(22)
  test('is set in before, so the handler already sees it', async () => {
    let seen: boolean | undefined
    const handler = middy()
      .use(eventLoopRelease())
      .handler(async (_event: unknown, context: Context) => {
        seen = context.callbackWaitsForEmptyEventLoop
      })
    await handler({}, fakeContext())
    expect(seen).toBe(false)
  })

  test('is not set in before when before is false', async () => {
    let seen: boolean | undefined
    const handler = middy()
      .use(eventLoopRelease({ before: false }))
      .handler(async (_event: unknown, context: Context) => {
        seen = context.callbackWaitsForEmptyEventLoop
      })
    await handler({}, fakeContext())
    expect(seen).toBe(true)
  })

  test('is set again in after and onError when asked, even if the handler set it back', async () => {
    const ok = fakeContext()
    await middy()
      .use(eventLoopRelease({ after: true }))
      .handler(async (_event: unknown, context: Context) => {
        context.callbackWaitsForEmptyEventLoop = true
      })({}, ok)
    expect(ok.callbackWaitsForEmptyEventLoop).toBe(false)

    const failing = fakeContext()
    await expect(
      middy()
        .use(eventLoopRelease({ onError: true }))
        .handler(async (_event: unknown, context: Context) => {
          context.callbackWaitsForEmptyEventLoop = true
          throw new Error('boom')
        })({}, failing),
    ).rejects.toThrow('boom')
    expect(failing.callbackWaitsForEmptyEventLoop).toBe(false)

    const notAsked = fakeContext()
    await middy()
      .use(eventLoopRelease())
      .handler(async (_event: unknown, context: Context) => {
        context.callbackWaitsForEmptyEventLoop = true
      })({}, notAsked)
    expect(notAsked.callbackWaitsForEmptyEventLoop).toBe(true)
  })
})

describe('on the Node.js 24 runtime (no callback handlers, no flag)', () => {
  onRuntime(24)
  test('the middleware sets nothing, in before, after or onError', async () => {
    const contexts = [fakeContext(), fakeContext()]
    const handler = middy<{ fail: boolean }>()
      .use(eventLoopRelease({ after: true, onError: true }))
      .handler(async (event) => {
        if (event.fail) throw new Error('boom')
      })
    await handler({ fail: false }, contexts[0]!)
    await expect(handler({ fail: true }, contexts[1]!)).rejects.toThrow('boom')
    expect(contexts.map((context) => context.callbackWaitsForEmptyEventLoop)).toEqual([true, true])
  })

  test('the report still names what stays open across the freeze', async () => {
    const reports: LeftoverReport[] = []
    let timer: NodeJS.Timeout | undefined
    await middy()
      .use(eventLoopRelease({ reportLeftovers: (r) => reports.push(r) }))
      .handler(async () => {
        timer = setTimeout(() => {}, 60_000)
      })({}, fakeContext({ awsRequestId: 'on-24' }))
    clearTimeout(timer)
    expect(reports).toMatchObject([
      { phase: 'after', awsRequestId: 'on-24', added: { Timeout: 1 }, callbacks: false },
    ])
  })

  // The warning is once per process, so it is read from a fresh one (the built package).
  test("'warn' says what leftovers mean there, not what the flag would do", () => {
    const entry = path.resolve('packages/event-loop-release/dist/index.js')
    const script = `
      const { default: eventLoopRelease } = await import(${JSON.stringify(entry)})
      const warnings = []
      process.on('warning', (warning) => warnings.push(warning.message))
      const middleware = eventLoopRelease({ reportLeftovers: 'warn' })
      const request = { event: {}, context: { callbackWaitsForEmptyEventLoop: true }, internal: {} }
      middleware.before(request)
      const timer = setTimeout(() => {}, 60_000)
      middleware.after(request)
      clearTimeout(timer)
      setImmediate(() => console.log(JSON.stringify({ warnings, flag: request.context.callbackWaitsForEmptyEventLoop })))`
    const output = execFileSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' },
    })
    const { warnings, flag } = JSON.parse(output)
    expect(flag).toBe(true)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain(
      'left 1 Timeout active on the event loop; on Node.js 24 no response waits for them',
    )
    expect(warnings[0]).not.toContain('callbackWaitsForEmptyEventLoop')
  })
})

describe('the runtime', () => {
  test("is Lambda's AWS_EXECUTION_ENV where set, else this process's Node.js", () => {
    expect(runtimeNodeMajor({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' })).toBe(24)
    expect(runtimeTakesCallbacks({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' })).toBe(false)
    expect(runtimeTakesCallbacks({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' })).toBe(true)
    const major = Number(process.versions.node.split('.')[0])
    expect(runtimeNodeMajor({})).toBe(major)
    expect(runtimeNodeMajor({ AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE' })).toBe(major)
  })

  // Runs on every CI leg: on Node 20 and 22 the flag is set, on Node 24 (pnpm test:node24) not.
  test('on this very Node.js, without AWS_EXECUTION_ENV, the middleware follows it', async () => {
    const saved = process.env.AWS_EXECUTION_ENV
    delete process.env.AWS_EXECUTION_ENV
    try {
      const context = fakeContext()
      await middy()
        .use(eventLoopRelease())
        .handler(async () => {})({}, context)
      expect(context.callbackWaitsForEmptyEventLoop).toBe(Number(process.versions.node.split('.')[0]) >= 24)
    } finally {
      if (saved !== undefined) process.env.AWS_EXECUTION_ENV = saved
    }
  })
})

describe('edge contexts', () => {
  test('a context without the property gets it, a frozen one is left alone without throwing', () => {
    const bare: Record<string, unknown> = {}
    expect(releaseEventLoop(bare)).toBe(true)
    expect(bare.callbackWaitsForEmptyEventLoop).toBe(false)
    const frozen = Object.freeze({ callbackWaitsForEmptyEventLoop: true })
    expect(releaseEventLoop(frozen)).toBe(false)
    expect(frozen.callbackWaitsForEmptyEventLoop).toBe(true)
    expect(releaseEventLoop(undefined)).toBe(false)
  })

  test('a read-only property (a runtime that ignores the flag) does not throw', async () => {
    const context = fakeContext()
    Object.defineProperty(context, 'callbackWaitsForEmptyEventLoop', { value: true, writable: false })
    const handler = middy()
      .use(eventLoopRelease({ after: true, onError: true }))
      .handler(async () => 'fine')
    expect(await handler({}, context)).toBe('fine')
  })

  test('a durable context gets the flag on its lambdaContext', () => {
    const lambdaContext = fakeContext()
    const durable = Object.freeze({ lambdaContext })
    expect(releaseEventLoop(durable)).toBe(true)
    expect(lambdaContext.callbackWaitsForEmptyEventLoop).toBe(false)
  })
})

describe('leftover report', () => {
  test('reports the socket a handler leaves open, and nothing for one that cleans up', async () => {
    const reports: LeftoverReport[] = []
    const leaky = middy()
      .use(eventLoopRelease({ reportLeftovers: (r) => reports.push(r) }))
      .handler(async () => {
        leaked.push(await openSocket())
      })
    const leaked: net.Socket[] = []
    const tidy = middy()
      .use(eventLoopRelease({ reportLeftovers: (r) => reports.push(r) }))
      .handler(async () => {
        await closeSocket(await openSocket())
      })

    await tidy({}, fakeContext({ awsRequestId: 'tidy' }))
    expect(reports).toEqual([])
    await leaky({}, fakeContext({ awsRequestId: 'leaky', functionName: 'orders' }))
    expect(reports).toHaveLength(1)
    expect(reports[0]).toMatchObject({ phase: 'after', awsRequestId: 'leaky', functionName: 'orders' })
    expect(reports[0]!.added.TCPSocketWrap).toBeGreaterThanOrEqual(1)
    await Promise.all(leaked.map(closeSocket))
  })

  test('reports a timer left by a throwing handler in onError', async () => {
    const reports: LeftoverReport[] = []
    let timer: NodeJS.Timeout | undefined
    const handler = middy()
      .use(eventLoopRelease({ reportLeftovers: (r) => reports.push(r) }))
      .handler(async () => {
        timer = setTimeout(() => {}, 60_000)
        throw new Error('boom')
      })
    await expect(handler({}, fakeContext())).rejects.toThrow('boom')
    clearTimeout(timer)
    expect(reports).toMatchObject([{ phase: 'onError', added: { Timeout: 1 } }])
  })

  test("'warn' warns once per environment", async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const timers: NodeJS.Timeout[] = []
    const handler = middy()
      .use(eventLoopRelease({ reportLeftovers: 'warn' }))
      .handler(async () => {
        timers.push(setTimeout(() => {}, 60_000))
      })
    await handler({}, fakeContext())
    await handler({}, fakeContext())
    timers.forEach(clearTimeout)
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0]![0])).toContain('1 Timeout')
    warn.mockRestore()
  })
})

describe('options', () => {
  test.each([
    [{ befor: true }, 'unknown option "befor" (did you mean "before"?)'],
    [{ after: 'yes' }, 'option "after" must be a boolean, got a string of length 3'],
    [
      { reportLeftovers: true },
      `option "reportLeftovers" must be false, 'warn' or a function, got boolean true`,
    ],
  ])('%j is rejected at construction', (options, message) => {
    expect(() => eventLoopRelease(options as never)).toThrow(TypeError)
    expect(() => eventLoopRelease(options as never)).toThrow(message)
  })
})

describe('under Lambda Managed Instances (AWS_LAMBDA_MAX_CONCURRENCY set)', () => {
  test('says once, at WARN level, that it cannot tell one invocation’s leftovers from the others’', async () => {
    process.env.AWS_LAMBDA_MAX_CONCURRENCY = '8'
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {})
    const processWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const reports: LeftoverReport[] = []
    try {
      const timers: NodeJS.Timeout[] = []
      const middlewares = [
        eventLoopRelease({ reportLeftovers: 'warn' }),
        eventLoopRelease({ reportLeftovers: (r) => reports.push(r) }),
      ]
      for (const middleware of middlewares) {
        const handler = middy()
          .use(middleware)
          .handler(async () => {
            timers.push(setTimeout(() => {}, 60_000))
          })
        await Promise.all([handler({}, fakeContext()), handler({}, fakeContext())])
      }
      timers.forEach(clearTimeout)
      expect(warn).toHaveBeenCalledTimes(1)
      expect(String(warn.mock.calls[0]![0])).toContain('cannot be told apart')
      expect(processWarning).not.toHaveBeenCalled()
      expect(reports).toEqual([])
    } finally {
      delete process.env.AWS_LAMBDA_MAX_CONCURRENCY
      warn.mockRestore()
      processWarning.mockRestore()
    }
  })
})
