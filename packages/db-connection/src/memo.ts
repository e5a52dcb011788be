/**
 * A string test remembered for the last `size` distinct inputs. A handler's statements are mostly
 * the same few literals, so asking whether one changes session state costs a map lookup (its
 * hash is kept in the string) rather than a scan of the whole text by a regular expression with
 * unanchored alternatives (~450 instructions a statement for `SELECT 1`, more for longer SQL).
 * Bounded in count and in size: SQL built per call (values inlined) would grow it without end, and
 * a long text (a bulk INSERT) is tested each time rather than kept alive, so it holds at most
 * `size` × `maxLength` characters; when full it starts over.
 */
export const rememberTest = (
  test: (text: string) => boolean,
  size = 256,
  maxLength = 1_024,
): ((text: string) => boolean) => {
  const seen = new Map<string, boolean>()
  return (text) => {
    if (text.length > maxLength) return test(text)
    const known = seen.get(text)
    if (known !== undefined) return known
    const answer = test(text)
    if (seen.size >= size) seen.clear()
    seen.set(text, answer)
    return answer
  }
}
