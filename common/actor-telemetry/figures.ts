/** Small pure figures of actor telemetry: message summaries, default kinds, the p99. */

/** How much of a message's JSON a crash keeps. */
const MESSAGE_SUMMARY_CHARS = 200;

/** Its `type` when it has one, else its JSON cut to 200 characters. */
export function summarizeMessage(msg: unknown): string | undefined {
  if (msg === undefined) return undefined;
  const type = (msg as { type?: unknown } | null)?.type;
  if (typeof type === 'string') return type;
  let text: string;
  try { text = JSON.stringify(msg) ?? String(msg); } catch { text = String(msg); }
  return text.length > MESSAGE_SUMMARY_CHARS ? text.slice(0, MESSAGE_SUMMARY_CHARS) : text;
}

/**
 * An actor's role from its name when no spawn site said: `leader-3` -> `leader`, `worker7` ->
 * `worker`, `default$web` -> `default`. Numbers and object names are dropped, so metrics by kind
 * keep few series even for actors nobody described.
 */
export function kindFromName(name: string): string {
  return name.replace(/\$.*$/, '').replace(/[-_.]?\d+$/, '') || name;
}

/**
 * The 99th percentile (nearest rank) of `xs`, unsorted: the k-th largest for the small k it
 * takes (k = 1 up to 100 values, at most 3 for SAMPLE_CAP), found in one pass without sorting. 0 for none.
 */
export function percentile99(xs: readonly number[]): number {
  const n = xs.length;
  if (n === 0) return 0;
  const k = n - Math.ceil(0.99 * n) + 1;
  let a = -Infinity; let b = -Infinity; let c = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = xs[i]!;
    if (x > a) { c = b; b = a; a = x; } else if (x > b) { c = b; b = x; } else if (x > c) c = x;
  }
  if (k <= 1) return a;
  if (k === 2) return b;
  if (k === 3) return c;
  return [...xs].sort((p, q) => q - p)[k - 1]!;
}
