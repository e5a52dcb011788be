import { makeSelfSignedCertificate, type RedisServer } from '@middy-downstream/testing'
import { Redis as Redis5 } from 'ioredis'
import { Redis as Redis6 } from 'ioredis6'
import type { RedisConstructor } from '../src/index.js'

/** Both supported majors; every integration suite runs against each. */
export const ioredisVersions = {
  5: { label: 'ioredis 5', Redis: Redis5 as unknown as RedisConstructor, env: '5' },
  6: { label: 'ioredis 6', Redis: Redis6 as unknown as RedisConstructor, env: '6' },
} as const

export type IoredisVersion = (typeof ioredisVersions)[keyof typeof ioredisVersions]

/**
 * Function timeout and margin for the fault tests: the deadline falls 600 ms in, and the 400 ms
 * margin leaves room for late timers on a shared, loaded test machine.
 */
export const fault = { timeoutMs: 1000, marginMs: 400 } as const

/**
 * Waits until `check` holds, polling: for conditions only a server can report (a client closed
 * by its idle timeout, a command blocked). Fails after `timeoutMs`.
 */
export const until = async (check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> => {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The numeric fields of one INFO (one redis-cli connection and one command). */
export const stats = async (server: RedisServer): Promise<Record<string, number>> => {
  const fields: Record<string, number> = {}
  for (const line of (await server.cli('INFO', 'everything')).split(/\r?\n/)) {
    const [name, value] = line.split(':')
    if (name && value !== undefined && /^-?\d+(\.\d+)?$/.test(value)) fields[name] = Number(value)
  }
  return fields
}

/** Runs `fn` and returns its outcome with how long it took. */
export const timed = async <T>(fn: () => Promise<T>) => {
  const started = Date.now()
  try {
    const value = await fn()
    return { ok: true as const, value, error: undefined, ms: Date.now() - started }
  } catch (error) {
    return {
      ok: false as const,
      value: undefined,
      error: error as Error & { cause?: unknown; code?: string },
      ms: Date.now() - started,
    }
  }
}

/** A self-signed certificate for 127.0.0.1/localhost (or only the names given), made with openssl. */
export const makeCertificate = async (altNames = 'IP:127.0.0.1,DNS:localhost') => {
  const { dir, certPath, keyPath } = makeSelfSignedCertificate(altNames)
  return { dir, cert: certPath, key: keyPath }
}
