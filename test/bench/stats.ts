/** Percentiles for benchmark samples. */

/** The p-th percentile (0..100) of `xs` by nearest rank. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

/** p50 and p99 rounded to 0.1 ms. */
export function summary(xs: number[]): { p50: number; p99: number; n: number } {
  const r = (v: number) => Math.round(v * 10) / 10;
  return { p50: r(percentile(xs, 50)), p99: r(percentile(xs, 99)), n: xs.length };
}
