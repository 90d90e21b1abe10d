/**
 * Percentiles by linear interpolation between closest ranks (the method of NumPy's default and
 * of most benchmark tools): p in [0, 100]; an empty sample gives NaN.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`)
  const sorted = [...values].sort((a, b) => a - b)
  const rank = (p / 100) * (sorted.length - 1)
  const lo = Math.floor(rank)
  const hi = Math.ceil(rank)
  const a = sorted[lo]!
  const b = sorted[hi]!
  return a + (b - a) * (rank - lo)
}

export interface Summary {
  count: number
  mean: number
  min: number
  p50: number
  p90: number
  p99: number
  max: number
}

export function summarize(values: readonly number[]): Summary {
  const count = values.length
  if (count === 0) {
    return {
      count,
      mean: Number.NaN,
      min: Number.NaN,
      p50: Number.NaN,
      p90: Number.NaN,
      p99: Number.NaN,
      max: Number.NaN
    }
  }
  let sum = 0
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  for (const v of values) {
    sum += v
    if (v < min) min = v
    if (v > max) max = v
  }
  return {
    count,
    mean: sum / count,
    min,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    max
  }
}

/** Rounds to a number of significant digits, for tables. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value
  const magnitude = Math.floor(Math.log10(Math.abs(value)))
  const factor = 10 ** (digits - 1 - magnitude)
  return Math.round(value * factor) / factor
}
