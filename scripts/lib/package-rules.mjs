// What a published tarball must and must not hold, as pure checks over its file list, its
// package.json and its README: each returns the problems it finds, as sentences.
import path from 'node:path'
import { repoUrl } from './packages.mjs'

/** Files no tarball ships: build state, and source maps that would point at unshipped src/. */
export const tarballFileProblems = (files, pkg) => {
  const problems = []
  for (const file of files) {
    if (file.endsWith('.tsbuildinfo')) problems.push(`${file}: build state, not for users`)
    if (file.endsWith('.map')) problems.push(`${file}: a source map, and src/ is not shipped`)
    if (/^(src|test|bench)\//.test(file)) problems.push(`${file}: not part of the published package`)
  }
  for (const needed of ['LICENSE', 'README.md', 'package.json'])
    if (!files.includes(needed)) problems.push(`${needed} is missing`)
  const targets = [
    ...Object.values(pkg.exports ?? {}).flatMap((target) =>
      typeof target === 'string' ? [target] : Object.values(target),
    ),
    ...(typeof pkg.bin === 'string' ? [pkg.bin] : Object.values(pkg.bin ?? {})),
  ]
  for (const target of targets.map((t) => t.replace(/^\.\//, '')))
    if (!files.includes(target)) problems.push(`${target} is in package.json but not in the tarball`)
  return problems
}

/** The fields the registry's page shows: where the code lives, where to report a bug, how to find it. */
export const metadataProblems = (pkg, directory) => {
  const problems = []
  const repository = pkg.repository ?? {}
  if (repository.url !== `git+${repoUrl}.git`) problems.push(`repository.url must be git+${repoUrl}.git`)
  if (repository.directory !== directory) problems.push(`repository.directory must be ${directory}`)
  if (!pkg.homepage?.startsWith(repoUrl)) problems.push(`homepage must be under ${repoUrl}`)
  if (pkg.bugs?.url !== `${repoUrl}/issues`) problems.push(`bugs.url must be ${repoUrl}/issues`)
  if (!Array.isArray(pkg.keywords) || pkg.keywords.length === 0) problems.push('keywords are missing')
  if (pkg.license !== 'MIT') problems.push('license must be MIT')
  return problems
}

/** Markdown link and image targets: `[text](target)` and `<img src="target">`. */
export const linkTargets = (markdown) =>
  [...markdown.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)|\b(?:src|href)="([^"]+)"/g)].map(
    (match) => match[1] ?? match[2],
  )

/** A relative link in a README dies on the registry's page, which has no files next to it. */
export const readmeLinkProblems = (markdown) =>
  linkTargets(markdown)
    .filter((target) => !/^([a-z][a-z0-9+.-]*:|#)/i.test(target))
    .map((target) => `README links to ${target}, which the registry's page cannot show: link ${repoUrl}/…`)

/** Relative files a bundle loads: imports, and files it loads by URL next to itself. */
const relativeReferences = (code) =>
  [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|new URL\(\s*|register\(\s*)"(\.\.?\/[^"]+)"/g)].map(
    (match) => match[1],
  )

/** Every relative file a shipped .js file refers to must be shipped too (a chunk, a worker, a hook). */
export const missingFileProblems = (files, read) =>
  files
    .filter((file) => file.endsWith('.js'))
    .flatMap((file) =>
      relativeReferences(read(file))
        .map((reference) => ({ reference, target: path.posix.join(path.posix.dirname(file), reference) }))
        .filter(({ target }) => !files.includes(target))
        .map(({ reference }) => `${file} loads ${reference}, which is not in the tarball`),
    )
