/** A Data API parameter as it arrives in the JSON body. */
export interface WireParameter {
  name: string
  value: {
    isNull?: boolean
    booleanValue?: boolean
    longValue?: number
    doubleValue?: number
    stringValue?: string
    blobValue?: string
    arrayValue?: unknown
  }
  typeHint?: string
}

/** A request the Data API refuses, as the service would (status, error type, message). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message)
  }
}

const plainValue = (parameter: WireParameter): unknown => {
  const v = parameter.value
  if (v.isNull) return null
  if (v.arrayValue !== undefined) {
    throw new ApiError(400, 'BadRequestException', 'Array parameters are not supported by this database')
  }
  if (v.blobValue !== undefined) return Buffer.from(v.blobValue, 'base64')
  return v.booleanValue ?? v.longValue ?? v.doubleValue ?? v.stringValue ?? null
}

/**
 * `:name` placeholders → `?` with the values in order, as MariaDB takes them. Quoted text and
 * `::` casts are left alone.
 */
export const bindNamed = (
  sql: string,
  parameters: WireParameter[] = [],
): { sql: string; values: unknown[] } => {
  const byName = new Map(parameters.map((p) => [p.name, p]))
  const values: unknown[] = []
  let out = ''
  let quote: string | undefined
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i] as string
    if (quote) {
      out += c
      if (c === quote) quote = undefined
      continue
    }
    if (c === "'" || c === '"' || c === '`') quote = c
    const name =
      c === ':' && sql[i - 1] !== ':' && sql[i + 1] !== ':' ? /^[A-Za-z_]\w*/.exec(sql.slice(i + 1)) : null
    if (!name) {
      out += c
      continue
    }
    const parameter = byName.get(name[0])
    if (!parameter)
      throw new ApiError(400, 'BadRequestException', `No value specified for parameter: ${name[0]}`)
    values.push(plainValue(parameter))
    out += '?'
    i += name[0].length
  }
  return { sql: out, values }
}
