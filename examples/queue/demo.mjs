// `pnpm demo:queue`: 2,000 messages, 60 environments, a downstream that takes 10 in flight;
// without a guard, with downstream-guard (concurrency 10), and with only the event source
// mapping's maximum concurrency (10). About a minute on 2 cores.
import { RedisServer } from '@middy-downstream/testing'
import { formatRows, runScenario } from './scenario.mjs'

const log = (line) => console.error(line)
const redis = await RedisServer.start()
const rows = []
try {
  for (const scenario of [
    { name: 'no guard' },
    { name: 'downstream-guard, concurrency 10', guardRedisUrl: redis.url },
    { name: 'ESM maximum concurrency 10', maximumConcurrency: 10 },
  ]) {
    log(`running: ${scenario.name}`)
    rows.push(await runScenario({ ...scenario, onProgress: log }))
  }
} finally {
  await redis.dispose()
}
console.log(formatRows(rows))
