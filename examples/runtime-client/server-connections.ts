// What the tier reads on the private servers (who is connected) and on the runtime's end.
import { expect } from '@jest/globals'
import type { MariaDbServer, RedisServer, RicExit } from '@middy-downstream/testing'

/** The ids of the connections to database `test`, the harness's own left out. */
export const mariaDbConnectionIds = async (server: MariaDbServer): Promise<number[]> =>
  (
    await server.sql<{ ID: number }[]>(
      "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = 'test' AND ID <> CONNECTION_ID()",
    )
  ).map((row) => Number(row.ID))

/** The ids of Redis's clients, the redis-cli asking left out. */
export const redisConnectionIds = async (server: RedisServer): Promise<string[]> =>
  (await server.cli('CLIENT', 'LIST'))
    .split('\n')
    .filter((line) => line.trim() && !/ cmd=client(\|list)? /.test(line))
    .map((line) => /^id=(\d+)/.exec(line)?.[1] ?? line)

/** The highest value `sample` returned while `work` ran (sampled back to back). */
export const peakWhile = async <T>(sample: () => Promise<number>, work: () => Promise<T>) => {
  let peak = 0
  let running = true
  const sampler = (async () => {
    while (running) peak = Math.max(peak, await sample())
  })()
  try {
    const result = await work()
    return { result, peak }
  } finally {
    running = false
    await sampler
  }
}

/**
 * The runtime was still running at shutdown (no worker or process died of an unhandled rejection,
 * which `--unhandled-rejections=strict` turns into a crash) and ended on Lambda's SIGTERM.
 */
export const cleanExit = (exit: RicExit): void => {
  expect({
    aliveAtShutdown: exit.aliveAtShutdown,
    signal: exit.signal,
    crash: exit.output.match(/.*(Unhandled|ERR_UNHANDLED_REJECTION|exited with code|uncaught).*/i)?.[0],
  }).toEqual({ aliveAtShutdown: true, signal: 'SIGTERM', crash: undefined })
}
