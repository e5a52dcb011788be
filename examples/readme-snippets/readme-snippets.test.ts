import { execFile } from 'node:child_process'
import { rmSync } from 'node:fs'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { LambdaEnvironment } from '@middy-downstream/lambda-sim'
import { MariaDbServer, MongoStandIn, RedisServer } from '@middy-downstream/testing'
// @ts-expect-error: plain ESM helpers, typed by use
import { compile, compiledPath, writeProject } from './project.mjs'
// @ts-expect-error: plain ESM helpers, typed by use
import { blocksOf, readmes } from './snippets.mjs'

// Every TypeScript block of every README, compiled as one strict consumer project against the
// built packages (run `pnpm build` first; `pnpm test` does), and the blocks marked
// `<!-- snippet: run ... -->` run against private servers. See snippets.mjs for the markings.

interface Block {
  readme: string
  line: number
  lang: 'ts' | 'js'
  code: string
  kind: 'module' | 'fragment' | 'run'
  prelude: string[]
  event?: unknown
}
interface CompileError {
  readme: string
  line: number
  code: string
  message: string
}

const blocks: Block[] = (readmes() as string[]).flatMap((readme) => blocksOf(readme) as Block[])
const runnable = blocks.filter((block) => block.kind === 'run')
const where = (block: Block) => `${block.readme}:${block.line}`

let project: { dir: string }
let errors: CompileError[] = []
beforeAll(async () => {
  project = writeProject(blocks)
  errors = await compile(project)
}, 240_000)
afterAll(() => rmSync(project.dir, { recursive: true, force: true }))

describe('README code blocks compile for a strict consumer (no skipLibCheck, no DOM)', () => {
  test('there are blocks, and every one is TypeScript', () => {
    expect(blocks.length).toBeGreaterThan(20)
    // A ```js block would be compiled as TypeScript: mark it ts, as what it is checked as.
    expect(blocks.filter((block) => block.lang !== 'ts').map(where)).toEqual([])
  })

  test.each([...new Set(blocks.map((block) => block.readme))])('%s', (readme) => {
    const mine = errors.filter((error) => error.readme === readme)
    expect(mine.map((error) => `${error.readme}:${error.line} ${error.code} ${error.message}`)).toEqual([])
  })

  test('nothing outside the blocks failed', () => {
    const known = new Set(blocks.map((block) => block.readme))
    expect(errors.filter((error) => !known.has(error.readme))).toEqual([])
  })
})

/** The servers the runnable blocks read from the environment, started only when one needs them. */
const servers: { stop: () => Promise<void> }[] = []
const env: Record<string, string> = {}
const needs = (variable: string) => runnable.some((block) => block.code.includes(`process.env.${variable}`))

describe('README blocks marked run', () => {
  beforeAll(async () => {
    if (needs('REDIS_URL')) {
      const redis = await RedisServer.start()
      servers.push({ stop: () => redis.dispose() })
      env.REDIS_URL = redis.url
    }
    if (needs('MONGO_URL')) {
      const mongo = await MongoStandIn.start()
      servers.push({ stop: () => mongo.stop() })
      env.MONGO_URL = mongo.url()
    }
    if (needs('DATABASE_URL')) {
      const mariadb = await MariaDbServer.start()
      servers.push({ stop: () => mariadb.dispose() })
      env.DATABASE_URL = `mysql://root@${mariadb.host}:${mariadb.port}/test`
    }
  }, 120_000)
  afterAll(() => Promise.all(servers.map((server) => server.stop())))

  test('there are some', () => {
    expect(runnable.length).toBeGreaterThan(5)
  })

  test.each(runnable.map((block) => [where(block), block] as const))(
    '%s',
    async (_, block) => {
      expect(errors.filter((error) => error.readme === block.readme)).toEqual([])
      const module = compiledPath(project.dir, block)
      if (/^export const handler\b/m.test(block.code)) {
        // A handler runs in a simulated Lambda environment, invoked with the marking's event.
        const environment = await LambdaEnvironment.start({
          module,
          timeoutMs: 10_000,
          env,
          output: 'ignore',
        })
        try {
          const result = await environment.invoke(block.event ?? {})
          expect(result.error).toBeUndefined()
          expect(result.ok).toBe(true)
        } finally {
          await environment.close()
        }
      } else {
        // A script runs to its end and exits 0.
        await promisify(execFile)(process.execPath, [module], {
          env: { ...process.env, ...env },
          timeout: 60_000,
        })
      }
    },
    60_000,
  )
})
