/**
 * The taint manager's decision for one pod on a node with NoExecute taints
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#taint-based-evictions):
 * a taint the pod does not tolerate evicts it at once; tolerated taints evict it when the
 * shortest matching tolerationSeconds has passed since the taint's timeAdded; a taint tolerated
 * only by tolerations without tolerationSeconds keeps it forever. Pure: timers are recomputed from timeAdded on every
 * reconcile, so a control-plane restart changes nothing.
 */
import type { Pod, Taint } from '../../messages';
import { tolerates } from './taints';

/**
 * When the pod is to be evicted from a node with `taints`, in ms since the epoch (a time not
 * after `now` means now), or null for never. A NoExecute taint without timeAdded counts from `now`.
 */
export function evictionTime(pod: Pod, taints: Taint[], now: number): number | null {
  let at: number | null = null;
  const tolerations = pod.spec.tolerations ?? [];
  for (const taint of taints) {
    if (taint.effect !== 'NoExecute') continue;
    const matching = tolerations.filter((t) => tolerates(t, taint));
    if (matching.length === 0) return now;
    const bounded = matching.filter((t) => t.tolerationSeconds !== undefined).map((t) => t.tolerationSeconds!);
    // Like Kubernetes' getMinTolerationTime: the shortest bound wins; only unbounded ones keep it forever.
    if (bounded.length === 0) continue;
    const added = Date.parse(taint.timeAdded ?? '');
    const since = Number.isNaN(added) ? now : added;
    const t = since + Math.max(0, Math.min(...bounded)) * 1000;
    at = at === null ? t : Math.min(at, t);
  }
  return at;
}
