// `pnpm demo:queue`: a burst of 2,000 messages, 60 environments, a downstream that takes 10 in
// flight; without a guard, with downstream-guard (concurrency 10), and with only the event source
// mapping's maximum concurrency (10). Smaller: `pnpm demo:queue --messages 400 --environments 20`.
import { parseArgs } from 'node:util'
import { RedisServer } from '@middy-downstream/testing'
import { formatRows, runScenario } from './scenario.mjs'

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '2000' },
    environments: { type: 'string', default: '60' },
    limit: { type: 'string', default: '10' },
    // Only the scenarios whose name contains this, e.g. --only lazy
    only: { type: 'string', default: '' },
    // What a permit per batch keeps back for the batch's calls (default 20% of the timeout; 0: none)
    'batch-work-ms': { type: 'string' },
  },
})
const shape = {
  messages: Number(values.messages),
  environments: Number(values.environments),
  downstreamLimit: Number(values.limit),
  ...(values['batch-work-ms'] === undefined ? {} : { batchWorkMs: Number(values['batch-work-ms']) }),
}
const log = (line) => console.error(line)
const redis = await RedisServer.start()
const rows = []
try {
  for (const scenario of [
    { name: 'without a guard' },
    { name: `downstream-guard, a permit per batch`, guardRedisUrl: redis.url },
    { name: `downstream-guard, a permit per call (lazy)`, guardRedisUrl: redis.url, guardMode: 'record' },
    { name: `ESM maximum concurrency ${shape.downstreamLimit}`, maximumConcurrency: shape.downstreamLimit },
  ].filter((scenario) => scenario.name.includes(values.only))) {
    log(`running: ${scenario.name}`)
    const row = await runScenario({ ...shape, ...scenario, onProgress: log })
    if (row.firstThrottleAtMs !== undefined)
      log(`${scenario.name}: first throttle ${row.firstThrottleAtMs} ms in`)
    rows.push(row)
  }
} finally {
  await redis.dispose()
}
console.log(
  `${shape.messages} messages, ${shape.environments} environments, a downstream that takes ${shape.downstreamLimit} in flight\n`,
)
console.log(formatRows(rows))
