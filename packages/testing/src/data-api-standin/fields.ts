import mysql from 'mysql2'

/** MariaDB column types (mysql2's names) as the Data API names them for Aurora MySQL. */
const typeNames: Record<string, string> = {
  LONGLONG: 'BIGINT',
  LONG: 'INT',
  INT24: 'MEDIUMINT',
  SHORT: 'SMALLINT',
  TINY: 'TINYINT',
  NEWDECIMAL: 'DECIMAL',
  DECIMAL: 'DECIMAL',
  DOUBLE: 'DOUBLE',
  FLOAT: 'FLOAT',
  DATETIME: 'DATETIME',
  DATETIME2: 'DATETIME',
  TIMESTAMP: 'TIMESTAMP',
  TIMESTAMP2: 'TIMESTAMP',
  DATE: 'DATE',
  TIME: 'TIME',
  TIME2: 'TIME',
  YEAR: 'YEAR',
  VAR_STRING: 'VARCHAR',
  STRING: 'CHAR',
  VARCHAR: 'VARCHAR',
  BLOB: 'BLOB',
  BIT: 'BIT',
  JSON: 'JSON',
}

export interface ColumnInfo {
  name: string
  label: string
  typeName: string
  nullable: number
}

/** The `columnMetadata` of a result, from mysql2's field packets. */
export const columnsOf = (fields: mysql.FieldPacket[]): ColumnInfo[] =>
  fields.map((f) => {
    const type = (mysql.Types as unknown as Record<number, string>)[f.columnType ?? 0] ?? 'VARCHAR'
    const binary = (f as { characterSet?: number }).characterSet === 63
    const typeName = type === 'BLOB' && !binary ? 'TEXT' : (typeNames[type] ?? type)
    return { name: f.orgName || f.name, label: f.name, typeName, nullable: Number(f.flags ?? 0) & 1 ? 0 : 1 }
  })

const integer = /^(BIGINT|INT|MEDIUMINT|SMALLINT|TINYINT|YEAR)$/

/** One value as a Data API `Field` (JSON form: blobs in base64). */
export const fieldOf = (value: unknown, column: ColumnInfo): Record<string, unknown> => {
  if (value === null || value === undefined) return { isNull: true }
  if (column.typeName === 'BIT' && Buffer.isBuffer(value) && value.length === 1)
    return { booleanValue: value[0] === 1 }
  if (Buffer.isBuffer(value)) return { blobValue: value.toString('base64') }
  if (integer.test(column.typeName)) return { longValue: Number(value) }
  if (typeof value === 'number') return { doubleValue: value }
  if (typeof value === 'object') return { stringValue: JSON.stringify(value) }
  return { stringValue: String(value) }
}
