import type { ArrayValue, SqlParameter } from '@aws-sdk/client-rds-data'

/** `YYYY-MM-DD HH:MM:SS.sss` in UTC: the form the Data API's TIMESTAMP type hint expects. */
const timestampOf = (date: Date): string => date.toISOString().replace('T', ' ').replace('Z', '')

const arrayOf = (name: string, values: unknown[]): ArrayValue => {
  if (values.every((v) => typeof v === 'boolean')) return { booleanValues: values as boolean[] }
  if (values.every((v) => typeof v === 'number' && Number.isSafeInteger(v)))
    return { longValues: values as number[] }
  if (values.every((v) => typeof v === 'number')) return { doubleValues: values as number[] }
  if (values.every((v) => typeof v === 'string')) return { stringValues: values as string[] }
  if (values.every((v) => Array.isArray(v)))
    return { arrayValues: values.map((v) => arrayOf(name, v as unknown[])) }
  throw new TypeError(
    `parameter "${name}": an array must hold only booleans, only numbers, only strings or only arrays`,
  )
}

/** One JS value as a Data API parameter; `null` and `undefined` are SQL NULL. */
export const parameterOf = (name: string, value: unknown): SqlParameter => {
  if (value === null || value === undefined) return { name, value: { isNull: true } }
  switch (typeof value) {
    case 'boolean':
      return { name, value: { booleanValue: value } }
    case 'number':
      return Number.isSafeInteger(value)
        ? { name, value: { longValue: value } }
        : { name, value: { doubleValue: value } }
    case 'bigint':
      // longValue travels as a JSON number: past 2^53 it would lose digits, so it goes as text.
      return Number.isSafeInteger(Number(value))
        ? { name, value: { longValue: Number(value) } }
        : { name, value: { stringValue: value.toString() }, typeHint: 'DECIMAL' }
    case 'string':
      return { name, value: { stringValue: value } }
  }
  if (value instanceof Date)
    return { name, value: { stringValue: timestampOf(value) }, typeHint: 'TIMESTAMP' }
  if (value instanceof Uint8Array) return { name, value: { blobValue: value } }
  if (Array.isArray(value)) return { name, value: { arrayValue: arrayOf(name, value) } }
  if (typeof value === 'object')
    return { name, value: { stringValue: JSON.stringify(value) }, typeHint: 'JSON' }
  throw new TypeError(`parameter "${name}": a ${typeof value} has no Data API type`)
}

/**
 * Named parameters (`:name` in the SQL) from a plain object. Positional values (`?`, `$1`) have
 * no Data API form, so an array is refused with the fix.
 */
export const parametersOf = (packageName: string, values: unknown): SqlParameter[] | undefined => {
  if (values === undefined || values === null) return undefined
  if (Array.isArray(values) || typeof values !== 'object') {
    throw new TypeError(
      `${packageName}: the Data API takes named parameters: write :name in the SQL and pass { name: value }, not a list`,
    )
  }
  try {
    return Object.entries(values).map(([name, value]) => parameterOf(name, value))
  } catch (error) {
    throw new TypeError(`${packageName}: ${(error as Error).message}`)
  }
}
