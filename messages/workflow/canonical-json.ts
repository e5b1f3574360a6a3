/** The canonical text of a JSON value, which a run's spec hash is taken of (common/spec-hash.ts). */

/**
 * JSON of `value` with every object's keys sorted and no spaces, so equal values give equal text
 * whatever their key order. Undefined object members are left out and undefined array items are
 * null, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v: unknown) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}
