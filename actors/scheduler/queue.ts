/**
 * The pods that fit nowhere, waiting for a change that could make them fit (kube-scheduler's
 * unschedulable pods pool, https://github.com/kubernetes/enhancements/tree/master/keps/sig-scheduling/4247-queueinghint):
 * each remembers which plugins rejected nodes, and a cluster event moves only the pods one of
 * those plugins could now say yes to. A moved pod is tried again; a pod nothing moves is tried
 * again after the flush interval (kube-scheduler's podMaxInUnschedulablePodsDuration, 5 min).
 * Nothing here retries by itself: the scheduler drains what moved.
 */
import type { ClusterEvent } from './cache';
import type { PluginName } from './plugins/types';

/** A pod that fits nowhere, as last tried. */
export interface WaitingPod {
  key: string;
  uid: string;
  /** The generation tried: a new spec is tried again at once. */
  generation: number;
  /** The FailedScheduling message of the last try. */
  message: string;
  rejectedBy: readonly PluginName[];
  triedAtMs: number;
  /** A change since the last try could make it fit. */
  moved: boolean;
}

/** Which plugins could change their answer after each kind of event. */
const EVENT_PLUGINS: Record<Exclude<ClusterEvent['type'], 'PodGone'>, readonly PluginName[] | 'all'> = {
  NodeAdd: 'all',
  NodeUpdate: 'all',
  // Room freed: resources and host ports; an anti-affinity peer gone; a domain's count lower.
  PodFreed: ['NodeResourcesFit', 'NodePorts', 'InterPodAffinity', 'PodTopologySpread', 'VolumeRestrictions'],
  // A new peer: required pod affinity may now hold; the lowest domain count may have risen.
  PodPlaced: ['InterPodAffinity', 'PodTopologySpread'],
  // A claim made or bound, a volume freed, a class added.
  StorageChange: ['VolumeBinding', 'VolumeRestrictions'],
};

/** The default flush interval (kube-scheduler's 5 min). */
export const DEFAULT_UNSCHEDULABLE_FLUSH_MS = 5 * 60_000;

/**
 * The waiting pods. Pods not yet moved are indexed by the plugins that rejected them, so an event
 * costs the pods it moves, not every pod that waits.
 */
export class UnschedulableQueue {
  private readonly waiting = new Map<string, WaitingPod>();
  /** Plugin -> keys of unmoved pods it rejected. */
  private readonly byPlugin = new Map<PluginName, Set<string>>();
  private readonly unmoved = new Set<string>();
  private movedN = 0;

  /** How many pods wait. */
  get size(): number { return this.waiting.size; }

  /** How many waiting pods are moved (to be tried again). */
  get movedCount(): number { return this.movedN; }

  get(key: string): WaitingPod | undefined { return this.waiting.get(key); }

  /** Puts (or puts back) a pod that fit nowhere. */
  add(pod: Omit<WaitingPod, 'moved'>): void {
    this.delete(pod.key);
    this.waiting.set(pod.key, { ...pod, moved: false });
    this.unmoved.add(pod.key);
    for (const p of pod.rejectedBy) {
      let set = this.byPlugin.get(p);
      if (!set) this.byPlugin.set(p, (set = new Set()));
      set.add(pod.key);
    }
  }

  /** Forgets a pod (bound, deleted, or to be tried afresh). */
  delete(key: string): void {
    const w = this.waiting.get(key);
    if (!w) return;
    this.waiting.delete(key);
    if (w.moved) this.movedN--;
    else this.unindex(w);
  }

  /** Marks the pods the event could help; returns how many are now moved. */
  onEvent(ev: ClusterEvent): number {
    if (ev.type === 'PodGone') {
      this.delete(ev.key);
      return this.movedN;
    }
    const plugins = EVENT_PLUGINS[ev.type];
    const keys = plugins === 'all' ? [...this.unmoved] : plugins.flatMap((p) => [...(this.byPlugin.get(p) ?? [])]);
    for (const key of keys) this.move(key);
    return this.movedN;
  }

  /** Marks the pods that have waited `flushMs` or more since their last try; returns how many are moved. */
  flush(nowMs: number, flushMs: number): number {
    for (const key of [...this.unmoved]) {
      const w = this.waiting.get(key);
      if (w && nowMs - w.triedAtMs >= flushMs) this.move(key);
    }
    return this.movedN;
  }

  /** The keys of the moved pods, oldest try first. */
  moved(): string[] {
    return [...this.waiting.values()].filter((w) => w.moved).sort((a, b) => a.triedAtMs - b.triedAtMs).map((w) => w.key);
  }

  private move(key: string): void {
    const w = this.waiting.get(key);
    if (!w || w.moved) return;
    this.unindex(w);
    w.moved = true;
    this.movedN++;
  }

  private unindex(w: WaitingPod): void {
    this.unmoved.delete(w.key);
    for (const p of w.rejectedBy) this.byPlugin.get(p)?.delete(w.key);
  }
}
