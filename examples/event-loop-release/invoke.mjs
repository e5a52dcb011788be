// Runs the example handler the way Lambda does (a frozen child-process environment), with and
// without event-loop-release, and prints what happened.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { LambdaEnvironment } from '@middy-downstream/lambda-sim'

const module = path.join(path.dirname(fileURLToPath(import.meta.url)), 'handler.mjs')
const timeoutMs = 1500

for (const exportName of ['unmanagedCallbackHandler', 'callbackHandler']) {
  const environment = await LambdaEnvironment.start({ module, exportName, timeoutMs })
  const results = []
  for (let i = 0; i < 3; i++) results.push(await environment.invoke({ name: `invocation ${i + 1}` }))
  await environment.close()
  const outcome = results.map((r) => (r.ok ? `ok in ${r.durationMs} ms` : `${r.error.message}`))
  console.log(`${exportName.padEnd(26)} ${outcome.join(' | ')}`)
}
console.log(
  '\nWithout event-loop-release each callback-style invocation waits for the open socket until the timeout;' +
    '\nwith it, the response goes out as soon as the handler is done.',
)
