// Relative links in the repository's own Markdown (read on GitHub, where they work) must stay
// inside the repository and name a file or folder that exists.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { linkTargets } from './package-rules.mjs'

const trackedMarkdown = (root) =>
  execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean)

export const repositoryLinkProblems = (root) => {
  const problems = []
  for (const file of trackedMarkdown(root)) {
    for (const target of linkTargets(readFileSync(path.join(root, file), 'utf8'))) {
      if (/^([a-z][a-z0-9+.-]*:|#)/i.test(target)) continue
      const resolved = path.resolve(root, path.dirname(file), decodeURI(target.split(/[#?]/)[0]))
      if (target.startsWith('/') || path.relative(root, resolved).startsWith('..'))
        problems.push(`${file} links to ${target}, outside the repository`)
      else if (!existsSync(resolved)) problems.push(`${file} links to ${target}, which does not exist`)
    }
  }
  return problems
}
