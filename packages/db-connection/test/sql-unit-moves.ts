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

/**
 * The bad options every server engine must refuse at construction, named in the error; `build`
 * is the engine's middleware factory.
 */
export const sqlBadOptions = (
  build: (options: { config: Record<string, unknown>; contextKey?: string }) => unknown,
): Array<[string, () => unknown, string | RegExp]> => [
  ['a port that is not a number', () => build({ config: { host: 'x', port: 'abc' } }), 'config.port'],
  ['a config naming no server', () => build({ config: {} }), 'names no server'],
  [
    'a numeric password',
    () => build({ config: { host: 'x', password: 918273 } }),
    /option "config.password" must be a string, got number;/,
  ],
  [
    'a contextKey that replaces the Lambda clock',
    () => build({ config: { host: 'x' }, contextKey: 'getRemainingTimeInMillis' }),
    'option "contextKey"',
  ],
]
