/** Formatting numbers and times the way `mk get` and `mk top` print them. Pure: no DOM. */

/** A Kubernetes-style age: 5s, 3m, 2h, 4d (`mk get`'s AGE column). */
export function age(since: string | undefined, now: number): string {
  if (!since) return '';
  const t = Date.parse(since);
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** CPU in millicores (`mk top`'s unit): 1e6 nanocores = 1m. */
export function cpu(nanoCores: number | undefined): string {
  if (nanoCores === undefined || !Number.isFinite(nanoCores)) return '';
  return `${Math.round(nanoCores / 1e6)}m`;
}

/** Bytes in binary units: 512Ki, 12Mi, 1.5Gi. */
export function bytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '';
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)}${units[i]}`;
}

/** Milliseconds with a sensible precision: 0.12ms, 3.4ms, 120ms. */
export function ms(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '';
  if (v < 1) return `${v.toFixed(2)}ms`;
  if (v < 10) return `${v.toFixed(1)}ms`;
  return `${Math.round(v)}ms`;
}

/** A rate per second: 0.5/s, 12/s, 1.2k/s. */
export function rate(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '';
  if (v >= 1000) return `${(v / 1000).toFixed(1)}k/s`;
  if (v >= 10) return `${Math.round(v)}/s`;
  return `${Number(v.toFixed(1))}/s`;
}

/** A percentage of a capacity, or '' when there is none. */
export function percent(used: number | undefined, capacity: number | undefined): string {
  if (!used || !capacity) return '';
  return `${Math.round((used / capacity) * 100)}%`;
}

const BIN: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DEC: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/**
 * A Kubernetes quantity as a number (`500m` -> 0.5, `16Gi` -> 17179869184, `2` -> 2), or
 * undefined when it is not one. https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/
 */
export function quantity(q: string | undefined): number | undefined {
  if (q === undefined) return undefined;
  const m = /^([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkKMGTPE]?)$/.exec(q.trim());
  if (!m) return undefined;
  const v = Number(m[1]);
  return v * (BIN[m[2]] ?? DEC[m[2]] ?? 1);
}
