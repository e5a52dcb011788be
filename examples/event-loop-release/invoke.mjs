// Runs the example handler the way Lambda does (a frozen child-process environment), with and
// without event-loop-release, and prints what happened.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { callbackHandlersSupported, LambdaEnvironment } from '@middy-downstream/lambda-sim'

const module = path.join(path.dirname(fileURLToPath(import.meta.url)), 'handler.mjs')
const timeoutMs = 1500

if (!callbackHandlersSupported()) {
  console.log(
    `Node.js ${process.versions.node}: the Lambda runtime of Node.js 24 takes no callback-style handlers, so no` +
      '\ninvocation waits for the event loop; event-loop-release only reports what an invocation left open there.' +
      '\nRun this example on Node.js 22 or earlier to see the difference.',
  )
  process.exit(0)
}

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
