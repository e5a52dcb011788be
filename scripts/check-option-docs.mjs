// Every optional property of an exported `…Options` interface of a published package must have a
// doc comment with a `@default` tag: the README tables and the TypeDoc reference come from them.
// Usage: node scripts/check-option-docs.mjs   (exit code 1 and a list when one is missing)
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import ts from 'typescript'

const root = path.resolve(import.meta.dirname, '..')
const packagesDir = path.join(root, 'packages')

const isPublished = (dir) => JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).private !== true

const sourceFiles = (dir) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name))

const isExported = (node) => node.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) ?? false

const hasDefaultTag = (member) => ts.getJSDocTags(member).some((tag) => tag.tagName.text === 'default')

/** `file:line Interface.property` for each optional property without `@default`. */
const missingIn = (file) => {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
  const missing = []
  for (const statement of source.statements) {
    if (!ts.isInterfaceDeclaration(statement) || !isExported(statement)) continue
    if (!statement.name.text.endsWith('Options')) continue
    for (const member of statement.members) {
      if (!member.questionToken || !member.name || hasDefaultTag(member)) continue
      const { line } = source.getLineAndCharacterOfPosition(member.getStart())
      missing.push(
        `${path.relative(root, file)}:${line + 1} ${statement.name.text}.${member.name.getText(source)}`,
      )
    }
  }
  return missing
}

const missing = readdirSync(packagesDir)
  .map((name) => path.join(packagesDir, name))
  .filter(isPublished)
  .flatMap((dir) => sourceFiles(path.join(dir, 'src')).flatMap(missingIn))

if (missing.length > 0) {
  console.error(
    `Options without a @default tag in their doc comment (${missing.length}):\n${missing.join('\n')}`,
  )
  process.exit(1)
}
console.log('every optional option has a @default')
