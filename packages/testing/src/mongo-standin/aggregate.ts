import { badValue } from './errors.js'
import { type Doc, getPath, isPlainObject, matches, project, sortDocs, valuesEqual } from './match.js'

/** `'$field'` reads a field; anything else is a constant. */
const evaluate = (doc: Doc, expr: unknown): unknown =>
  typeof expr === 'string' && expr.startsWith('$') ? getPath(doc, expr.slice(1)) : expr

function group(docs: Doc[], spec: Doc): Doc[] {
  const groups: { _id: unknown; docs: Doc[] }[] = []
  for (const doc of docs) {
    const id = evaluate(doc, spec._id) ?? null
    let g = groups.find((x) => valuesEqual(x._id, id))
    if (!g) {
      g = { _id: id, docs: [] }
      groups.push(g)
    }
    g.docs.push(doc)
  }
  return groups.map(({ _id, docs: members }) => {
    const out: Doc = { _id }
    for (const [field, acc] of Object.entries(spec)) {
      if (field === '_id') continue
      if (!isPlainObject(acc) || !('$sum' in acc))
        throw badValue(`the stand-in's $group only supports $sum (${field})`)
      out[field] = members.reduce((sum, d) => {
        const v = evaluate(d, acc.$sum)
        return typeof v === 'number' ? sum + v : sum
      }, 0)
    }
    return out
  })
}

/** Runs the small pipeline subset that countDocuments and simple reads use. */
export function runPipeline(input: Doc[], pipeline: unknown): Doc[] {
  if (!Array.isArray(pipeline)) throw badValue("'pipeline' option must be specified as an array")
  let docs = input
  for (const stage of pipeline as Doc[]) {
    const [name, arg] = Object.entries(stage)[0] ?? []
    if (name === '$match') docs = docs.filter((d) => matches(d, arg as Doc))
    else if (name === '$skip') docs = docs.slice(Number(arg))
    else if (name === '$limit') docs = docs.slice(0, Number(arg))
    else if (name === '$sort') docs = sortDocs(docs, arg)
    else if (name === '$project') docs = docs.map((d) => project(d, arg))
    else if (name === '$group' && isPlainObject(arg)) docs = group(docs, arg)
    else if (name === '$count') docs = docs.length ? [{ [String(arg)]: docs.length }] : []
    else throw badValue(`the stand-in does not support the aggregation stage ${name}`)
  }
  return docs
}
