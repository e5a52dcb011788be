#!/usr/bin/env node
// `npx @middy-downstream/doctor doctor <url>`: progress on stderr, the report (or JSON) on stdout.
import { redact } from '@middy-downstream/core'
import { parseArgs, usage } from './cli-args.js'
import { diagnose } from './diagnose.js'
import { formatReport } from './format.js'

const main = async (): Promise<number> => {
  let args: ReturnType<typeof parseArgs>
  try {
    args = parseArgs(process.argv.slice(2))
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}\n`)
    return 2
  }
  try {
    const diagnosis = await diagnose(args.url, {
      ...(args.timeoutSeconds === undefined ? {} : { timeoutSeconds: args.timeoutSeconds }),
      connectionsPerEnvironment: args.connectionsPerEnvironment,
      progress: (line) => process.stderr.write(`doctor: ${line}...\n`),
    })
    process.stdout.write(
      args.json
        ? `${JSON.stringify(diagnosis, null, 2)}\n`
        : `${formatReport(diagnosis.facts, diagnosis.advice, diagnosis.shape)}\n`,
    )
    return 0
  } catch (error) {
    process.stderr.write(`doctor: ${redact((error as Error).message)}\n`)
    return 1
  }
}

process.exitCode = await main()
