/**
 * Latency summaries. Latencies are in milliseconds.
 */

/** The `q` quantile (0..1) of an ascending sorted array, nearest rank. */
export function quantile (sorted, q) {
  if (sorted.length === 0) return undefined
  const rank = Math.ceil(q * sorted.length) - 1
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]
}

/** p50, p90, p99, max and mean of `values` (any array-like of numbers). */
export function summarize (values) {
  const sorted = Float64Array.from(values).sort()
  let sum = 0
  for (const v of sorted) sum += v
  return {
    n: sorted.length,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1] : undefined,
    mean: sorted.length ? sum / sorted.length : undefined
  }
}

/** Rounds for reports: three significant digits, integers kept whole. */
export function round (value) {
  if (value === undefined || value === null || !Number.isFinite(value)) return value
  if (Math.abs(value) >= 100) return Math.round(value)
  return Number(value.toPrecision(3))
}
