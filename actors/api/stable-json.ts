/** Comparing objects as the api does: by content, whatever the order of their keys. */

/** JSON with sorted keys and undefined dropped, so equal objects compare equal. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, val) => {
    if (val && typeof val === 'object' && !Array.isArray(val)) {
      return Object.fromEntries(Object.keys(val).sort().filter((k) => val[k] !== undefined).map((k) => [k, val[k]]));
    }
    return val;
  }) ?? 'null';
}
