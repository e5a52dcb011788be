// The statistics the benches share: one median for every figure, and its standard error.

const sorted = (values) => [...values].sort((a, b) => a - b)

/** The median (the mean of the two middle values of an even count). */
export const median = (values) => {
  const s = sorted(values)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** Standard error of a median: 1.2533 σ / √n, σ estimated from the interquartile range (÷ 1.349). */
export const medianError = (values) => {
  const s = sorted(values)
  const at = (q) => s[Math.round((s.length - 1) * q)]
  return (1.2533 * ((at(0.75) - at(0.25)) / 1.349)) / Math.sqrt(values.length)
}
