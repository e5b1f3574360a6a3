/** Percentiles and spreads for benchmark samples. */

/** The p-th percentile (0..100) of `xs` by nearest rank; NaN for no samples. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

/** Rounds to 0.1 (ms figures) or to 0.01 (ratios) as asked. */
export function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** p50 and p99 rounded to 0.1 ms, and the sample count. */
export function summary(xs: number[]): { p50: number; p99: number; n: number } {
  return { p50: round(percentile(xs, 50)), p99: round(percentile(xs, 99)), n: xs.length };
}

/**
 * The median of `xs`: the middle value, or the mean of the two middle values for an even count
 * (unlike percentile(xs, 50), which picks the lower one); NaN for no samples.
 */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Smallest, median and largest of `xs`, rounded to `digits`. */
export interface Spread { min: number; median: number; max: number }

/** The spread of `xs` (for example the ratios of several rounds). */
export function spread(xs: number[], digits = 2): Spread {
  return { min: round(Math.min(...xs), digits), median: round(median(xs), digits), max: round(Math.max(...xs), digits) };
}
