/** What the invariant suite's transaction moves need of a SQL handle, whatever the engine. */
interface SqlHandle {
  query(sql: string, values?: unknown): Promise<unknown>
  transaction<T>(
    work: (tx: { query(sql: string, values?: unknown): Promise<unknown> }) => Promise<T>,
  ): Promise<T>
}

/**
 * The invariant suite's "unit" moves for a SQL engine: a transaction that writes a marker and
 * throws, alone and racing a plain write. `insert` writes its one parameter (`?` or `$1`).
 */
export const sqlUnitMoves = <THandle extends SqlHandle>(insert: string) => {
  const throwing = (db: THandle, marker: string) =>
    db.transaction(async (tx) => {
      await tx.query(insert, [marker])
      throw new Error('mid-transaction')
    })
  return {
    throwMidUnit: throwing as (db: THandle, marker: string) => Promise<never>,
    raceUnitAndPlain: (db: THandle, marker: string, plain: string) =>
      Promise.allSettled([throwing(db, marker), db.query(insert, [plain])]),
  }
}
