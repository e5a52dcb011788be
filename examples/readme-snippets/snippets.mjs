// Finds the TypeScript and JavaScript code blocks of the repository's READMEs, with what the HTML
// comment right above a fence says about the block:
//
//   <!-- snippet: fragment
//   declare const config: PoolOptions      (lines up to --> are a prelude the block compiles after)
//   -->
//   <!-- snippet: run {"id": 1} -->        (also run: a handler is invoked with this event, a
//                                           script is executed; the test provides the servers)
//
// A block with no comment must compile as it stands, as a complete module.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..')

/** Every README a user reads: the root's, each package's, the examples'. */
export const readmes = () => [
  'README.md',
  ...readdirSync(path.join(root, 'packages'))
    .map((name) => `packages/${name}/README.md`)
    .filter((file) => existsSync(path.join(root, file))),
  'examples/README.md',
]

const languages = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js' }

/** The marking comment that ends on the line right above the fence at `fence` (0-based). */
const markingAbove = (lines, fence) => {
  const last = fence - 1
  if (last < 0 || !lines[last].trim().endsWith('-->')) return undefined
  let first = last
  while (first >= 0 && !lines[first].trimStart().startsWith('<!--')) first -= 1
  const text = lines[first]?.trim() ?? ''
  if (!text.startsWith('<!-- snippet:')) return undefined
  const head = /^<!--\s*snippet:\s*(fragment|run)\b(.*)$/.exec(text)
  if (!head) throw new Error(`line ${first + 1}: a snippet marking is "fragment" or "run", got ${text}`)
  const [, kind, rest] = head
  const inline = (first === last ? rest.replace(/-->\s*$/, '') : rest).trim()
  const prelude =
    first === last ? [] : lines.slice(first + 1, last).concat(lines[last].replace(/-->\s*$/, ''))
  return { kind, inline, prelude: prelude.filter((line) => line.trim() !== '') }
}

/**
 * The blocks of one README: `{ readme, line (of the first code line, 1-based), lang, code, kind
 * ('module' | 'fragment' | 'run'), prelude (lines), event (for run) }`.
 */
export const blocksOf = (readme) => {
  const lines = readFileSync(path.join(root, readme), 'utf8').split('\n')
  const blocks = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i])
    if (!open) continue
    const end = lines.findIndex((line, j) => j > i && /^```\s*$/.test(line))
    if (end < 0) throw new Error(`${readme}:${i + 1}: a code block is never closed`)
    const lang = languages[open[1]]
    if (lang) {
      const marking = markingAbove(lines, i)
      let event
      if (marking?.kind === 'run' && marking.inline !== '') {
        try {
          event = JSON.parse(marking.inline)
        } catch (error) {
          throw new Error(`${readme}:${i}: the run marking's event is not JSON: ${error.message}`)
        }
      }
      blocks.push({
        readme,
        line: i + 2,
        lang,
        code: lines.slice(i + 1, end).join('\n'),
        kind: marking?.kind ?? 'module',
        prelude: marking?.kind === 'fragment' ? marking.prelude : [],
        event,
      })
    }
    i = end
  }
  return blocks
}

/** A file name for a block: where it comes from, so a compiler message points back to it. */
export const fileNameOf = (block) =>
  `${block.readme.replace(/\/README\.md$|\.md$/, '').replace(/\//g, '-')}-L${block.line}.${block.lang === 'ts' ? 'ts' : 'mjs'}`
