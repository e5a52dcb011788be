import net from 'node:net'
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { FaultProxy } from '../src/index.js'

/** An echo server: what the proxy forwards comes straight back. */
let echo: net.Server
let proxy: FaultProxy
beforeEach(async () => {
  echo = net.createServer((socket) => socket.pipe(socket))
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve))
  proxy = await FaultProxy.start({ port: (echo.address() as net.AddressInfo).port })
})
afterEach(async () => {
  await proxy.close()
  await new Promise((resolve) => echo.close(resolve))
})

const connect = (port: number) =>
  new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => resolve(socket))
    socket.once('error', reject)
  })

/** Resolves with what arrives within `ms`, or with 'nothing' when the line stays silent. */
const receive = (socket: net.Socket, ms = 200) =>
  new Promise<string>((resolve) => {
    const timer = setTimeout(() => resolve('nothing'), ms)
    socket.once('data', (data) => {
      clearTimeout(timer)
      resolve(data.toString())
    })
  })

const closed = (socket: net.Socket) =>
  new Promise<string | undefined>((resolve) => {
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code))
    socket.once('close', () => resolve('closed'))
  })

describe('FaultProxy', () => {
  test('passes bytes both ways and counts connections', async () => {
    const socket = await connect(proxy.port)
    socket.write('hello')
    expect(await receive(socket)).toBe('hello')
    expect(proxy.connectionsAccepted).toBe(1)
    socket.destroy()
  })

  test('black-holes open and new connections silently, then heals', async () => {
    const socket = await connect(proxy.port)
    proxy.setMode('blackhole')
    socket.write('lost')
    expect(await receive(socket)).toBe('nothing')
    expect(socket.destroyed).toBe(false)
    const late = await connect(proxy.port)
    late.write('also lost')
    expect(await receive(late)).toBe('nothing')
    proxy.setMode('pass')
    socket.write('back')
    expect(await receive(socket)).toBe('back')
    socket.destroy()
    late.destroy()
  })

  test('resets one connection and leaves the others alone', async () => {
    const victim = await connect(proxy.port)
    const bystander = await connect(proxy.port)
    const [victimId] = proxy.openConnections.map((c) => c.id)
    const victimClosed = closed(victim)
    proxy.setConnectionMode(victimId!, 'reset')
    expect(await victimClosed).toBe('ECONNRESET')
    bystander.write('still here')
    expect(await receive(bystander)).toBe('still here')
    bystander.destroy()
  })

  test('resets new connections in reset mode', async () => {
    proxy.setMode('reset')
    const socket = net.connect({ port: proxy.port, host: '127.0.0.1' })
    expect(await closed(socket)).toBe('ECONNRESET')
  })

  test('delays each chunk', async () => {
    const socket = await connect(proxy.port)
    proxy.setMode({ delayMs: 150 })
    socket.write('slow')
    expect(await receive(socket, 50)).toBe('nothing')
    expect(await receive(socket, 500)).toBe('slow')
    socket.destroy()
  })
})
