import type {
  ArrayValue,
  ColumnMetadata,
  ExecuteStatementCommandOutput,
  Field,
} from '@aws-sdk/client-rds-data'

/** What a statement that returns no rows gives. */
export interface DataApiWriteResult {
  numberOfRecordsUpdated: number
  /** Values the database generated (e.g. an AUTO_INCREMENT id, MySQL only). */
  generatedFields?: unknown[]
}

const arrayValueOf = (array: ArrayValue): unknown[] =>
  array.arrayValues?.map((a) => (a ? arrayValueOf(a) : null)) ??
  array.booleanValues ??
  array.longValues ??
  array.doubleValues ??
  array.stringValues ??
  []

/** A DATETIME/TIMESTAMP as the Data API sends it (`2026-12-01 15:04:05.123`, UTC) → a `Date`. */
const dateOf = (text: string): Date | string => {
  const date = new Date(`${text.replace(' ', 'T')}${/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? '' : 'Z'}`)
  return Number.isNaN(date.getTime()) ? text : date
}

/**
 * The column's type decides what a `stringValue` means: DECIMAL stays a string (exact, as with
 * mysql2 and pg), DATETIME/TIMESTAMP become a `Date`, JSON is parsed; DATE and TIME stay strings
 * (no time zone to shift them through).
 */
const fromString = (text: string, typeName: string): unknown => {
  if (/^(DATETIME|TIMESTAMP|TIMESTAMPTZ)$/.test(typeName)) return dateOf(text)
  if (/^JSONB?$/.test(typeName)) {
    try {
      return JSON.parse(text)
    } catch {
      return text
    }
  }
  return text
}

export const fieldValue = (field: Field, column: ColumnMetadata | undefined): unknown => {
  if (field.isNull) return null
  if (field.booleanValue !== undefined) return field.booleanValue
  if (field.longValue !== undefined) return field.longValue
  if (field.doubleValue !== undefined) return field.doubleValue
  if (field.blobValue !== undefined) return Buffer.from(field.blobValue)
  if (field.arrayValue !== undefined) return arrayValueOf(field.arrayValue)
  if (field.stringValue !== undefined)
    return fromString(field.stringValue, (column?.typeName ?? '').toUpperCase())
  return null
}

/** Rows as plain objects keyed by column label, or the write header when the statement returns no columns. */
export const shapeResult = (output: ExecuteStatementCommandOutput): unknown => {
  const columns = output.columnMetadata ?? []
  if (columns.length === 0 && output.records === undefined) {
    const header: DataApiWriteResult = { numberOfRecordsUpdated: output.numberOfRecordsUpdated ?? 0 }
    if (output.generatedFields && output.generatedFields.length > 0)
      header.generatedFields = output.generatedFields.map((f) => fieldValue(f, undefined))
    return header
  }
  const names = columns.map((c, i) => c.label || c.name || `column${i + 1}`)
  return (output.records ?? []).map((record) =>
    Object.fromEntries(record.map((field, i) => [names[i], fieldValue(field, columns[i])])),
  )
}
