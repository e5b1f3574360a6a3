/**
 * LabelSelector objects (matchLabels and matchExpressions) as workload kinds use them
 * (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#resources-that-support-set-based-requirements):
 * matching labels against one, and writing one the way kubectl prints a selector. No zod here:
 * `mk get` prints selectors without loading schemas.
 */
import type { LabelSelector } from './scheduling';

/** True when `labels` satisfy every part of `selector`; an empty selector selects everything. */
export function selectorMatches(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(l, k);
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (!has(k) || l[k] !== v) return false;
  for (const r of selector.matchExpressions ?? []) {
    const values = r.values ?? [];
    switch (r.operator) {
      case 'In': if (!has(r.key) || !values.includes(l[r.key])) return false; break;
      case 'NotIn': if (has(r.key) && values.includes(l[r.key])) return false; break;
      case 'Exists': if (!has(r.key)) return false; break;
      case 'DoesNotExist': if (has(r.key)) return false; break;
    }
  }
  return true;
}

/** True when the selector has no requirement at all (it would select every object). */
export function selectorEmpty(selector: LabelSelector | undefined): boolean {
  return !selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0);
}

/**
 * The selector as kubectl prints it (`app=web,tier in (a,b),!legacy`): requirements sorted by
 * key, each in the syntax `-l` takes.
 */
export function formatSelector(selector: LabelSelector | undefined): string {
  if (!selector) return '<none>';
  const parts: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) parts.push({ key: k, text: `${k}=${v}` });
  for (const r of selector.matchExpressions ?? []) {
    const values = [...(r.values ?? [])].sort().join(',');
    const text = r.operator === 'In' ? `${r.key} in (${values})`
      : r.operator === 'NotIn' ? `${r.key} notin (${values})`
        : r.operator === 'Exists' ? r.key : `!${r.key}`;
    parts.push({ key: r.key, text });
  }
  if (parts.length === 0) return '<none>';
  return parts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((p) => p.text).join(',');
}
