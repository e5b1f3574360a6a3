/**
 * Matching a LabelSelector object (matchLabels and matchExpressions) against labels, as pod
 * affinity terms use it (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#resources-that-support-set-based-requirements).
 */
import type { LabelSelector } from '../../../messages';

/**
 * True when `labels` satisfy the selector. An empty selector selects everything; an absent one
 * (undefined) selects nothing, as Kubernetes reads an affinity term without a labelSelector.
 */
export function matchesLabelSelector(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const r of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.operator) {
      case 'In': if (!has || !(r.values ?? []).includes(l[r.key])) return false; break;
      case 'NotIn': if (has && (r.values ?? []).includes(l[r.key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
    }
  }
  return true;
}
