const inspectSymbol = Symbol.for('nodejs.util.inspect.custom')

/**
 * Gives a driver object this package created (the `MongoClient`, its cached `Db`) an own
 * `toJSON` and `util.inspect` that print `summary` instead of its fields: a `MongoClient` keeps
 * the password in its options, and `console.log(db)` prints it even at the default depth.
 * Objects the handler derives from them (a `Collection`, a cursor) reach the client through a
 * property, so they print the summary there too.
 */
export const printAs = <T extends object>(target: T, summary: () => object): T => {
  const text = () => `${target.constructor?.name ?? 'Object'} ${JSON.stringify(summary())}`
  for (const [key, value] of [
    ['toJSON', summary],
    [inspectSymbol, text],
  ] as const) {
    Object.defineProperty(target, key, { value, enumerable: false, configurable: true, writable: true })
  }
  return target
}
