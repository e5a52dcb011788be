/** Edit distance (insert, delete, substitute one character) between two flags. */
const editDistance = (a: string, b: string): number => {
  const table = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      table[i]![j] = Math.min(
        table[i - 1]![j]! + 1,
        table[i]![j - 1]! + 1,
        table[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      )
  return table[a.length]![b.length]!
}

/**
 * The known flag a mistyped one most likely meant: the nearest by edit distance, if it is near
 * enough to be a typo (a third of its length, at least 2), or the only flag it is a prefix of.
 *
 * @example
 * suggestFlag('--concurency', ['--concurrency', '--invocations']) // '--concurrency'
 */
export const suggestFlag = (typed: string, known: readonly string[]): string | undefined => {
  const prefixed = known.filter((flag) => flag.startsWith(typed))
  if (prefixed.length === 1) return prefixed[0]
  const [best] = known
    .map((flag) => ({ flag, distance: editDistance(typed, flag) }))
    .sort((x, y) => x.distance - y.distance)
  return best && best.distance <= Math.max(2, Math.floor(typed.length / 3)) ? best.flag : undefined
}
