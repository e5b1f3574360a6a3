/**
 * The scheduler's work, apart from its actor shell: place one pod (decide from the cache, bind its
 * WaitForFirstConsumer claims on the chosen node (bind-volumes.ts), bind the pod by writing
 * spec.nodeName at the revision read, or say why not in the PodScheduled condition and a
 * FailedScheduling event), keep the pods that fit nowhere in the unschedulable queue, and try
 * again only those a cluster change could help (or that waited the flush interval). A pod that
 * waits is not tried again when its pod actor asks: the answer is the one it got last time.
 */
import type { ObjectStore } from '../../bus';
import {
  isConflict, isSchedulingGated, objectKey, PersistentVolumeClaimKind, PersistentVolumeKind, timestamp,
  type PersistentVolume, type PersistentVolumeClaim, type Pod, type PodCondition,
} from '../../messages';
import { log } from '../log';
import { assumedBindings, planVolumeBindings, writeVolumeBindings } from './bind-volumes';
import { SchedulerCache, type ClusterEvent } from './cache';
import { podInfo } from './plugins/pod-info';
import { DEFAULT_UNSCHEDULABLE_FLUSH_MS, UnschedulableQueue } from './queue';
import { schedule, type Decision, type SchedulingPolicy } from './schedule';
import { attemptDone, FirstSeen } from './metrics';

/** How the control plane configures its scheduler. */
export interface SchedulerConfig {
  /** How to pick among the nodes that fit: `least-allocated` (the default, with every score) or `round-robin`. */
  policy?: SchedulingPolicy;
  /** A pod that fits nowhere and that no change moved is tried again after this long (default 5 min). */
  unschedulableFlushMs?: number;
  /** Hears every scheduling attempt (a run of the filters), with the pod's key: for metrics and tests. */
  onAttempt?: (key: string) => void;
}

/** What the scheduler tells the events stream. */
export interface SchedulingEvents {
  scheduled(pod: Pod, node: string): void;
  unschedulable(pod: Pod, message: string): void;
}

/** A decision, with the pod as bound (and the binding's revision) when it was. */
export type Placement = Decision & { bound?: Pod; revision?: number };

/** The scheduler's state: its cache, its queue, the last node round robin chose. */
export class Scheduler {
  readonly cache: SchedulerCache;
  readonly queue = new UnschedulableQueue();
  private lastNode: string | undefined;
  /** Where the next decision starts filtering the node list. */
  private nextStartIndex = 0;
  /** Pods whose binding is being written. */
  private readonly binding = new Set<string>();
  /** When each unbound pod was first tried (metrics). */
  private readonly firstSeen = new FirstSeen();

  /** `movedSome` is called when an event moved waiting pods (the actor then asks for a retry). */
  constructor(
    private readonly store: ObjectStore,
    private readonly config: SchedulerConfig,
    private readonly events: SchedulingEvents,
    private readonly movedSome: () => void,
  ) {
    this.cache = new SchedulerCache((ev) => this.onClusterEvent(ev));
  }

  get flushMs(): number {
    return this.config.unschedulableFlushMs ?? DEFAULT_UNSCHEDULABLE_FLUSH_MS;
  }

  private onClusterEvent(ev: ClusterEvent): void {
    if (this.queue.size === 0) return;
    if (this.queue.onEvent(ev) > 0) this.movedSome();
  }

  /** Moves the pods that waited the flush interval; true when some are to be tried again. */
  flush(nowMs = Date.now()): boolean {
    return this.queue.size > 0 && this.queue.flush(nowMs, this.flushMs) > 0;
  }

  /**
   * Tries up to `limit` moved pods again, those waiting longest first; true when more remain (the
   * actor goes on after the pod actors' requests that came meanwhile). A store error on one pod
   * takes it out of the queue (its pod actor, which sees the change that caused it, asks again)
   * and goes on with the others.
   */
  async retryMoved(limit = Infinity): Promise<boolean> {
    const keys = this.queue.moved();
    for (const key of keys.slice(0, limit)) {
      if (!this.queue.get(key)?.moved) continue; // placed or gone meanwhile
      try {
        await this.place(key);
      } catch (err) {
        this.queue.delete(key);
        log.warn({ key, err: String(err) }, 'scheduling retry failed; the pod is tried again when its actor asks');
      }
    }
    return this.queue.movedCount > 0;
  }

  /**
   * Places one pod and waits until its binding is stored; see start(). Throws the store's error: a
   * Conflict when the copy decided on was behind the store (its pod actor asks again) or another
   * writer came first.
   */
  async place(key: string): Promise<Placement | null> {
    return (await this.start(key)).done;
  }

  /**
   * After a write from the cache's copy (at `revision`) failed with a Conflict: the store's copy
   * replaces it unless the informer delivered another meanwhile, so the retry does not write
   * from the same copy again. The informer's copy is normally only late, and then the store's
   * is newer; on a cluster whose servers' copies diverged it may even be ahead of the store's.
   */
  private async refreshOnConflict(key: string, revision: number, err: unknown): Promise<void> {
    if (!isConflict(err)) return;
    const got = await this.store.get<Pod>(key).catch(() => undefined);
    if (got && got.revision !== revision && this.cache.stored(key)?.revision === revision) this.cache.podChanged(key, got.object, got.revision);
  }

  /**
   * Decides for one pod, from the cache's copy of it when the cache has one (else read from the
   * store), and starts writing the decision. Resolves once decided, so the next pod can be
   * decided while this one's binding is being written, as kube-scheduler binds asynchronously:
   * the pod is counted on its node at once ("assumed"), and forgotten if the write fails. `done`
   * settles when the binding is stored (with the Scheduled event recorded) or failed. `done` is
   * null when the pod is gone, bound, being deleted, or its binding is being written already.
   */
  async start(key: string): Promise<{ done: Promise<Placement | null> }> {
    if (this.binding.has(key)) return { done: Promise.resolve(null) };
    const cached = this.cache.stored(key);
    let cur = cached ?? await this.store.get<Pod>(key);
    // A gated copy from the cache may be behind the update that removed the last gate, and no
    // write would tell (a Conflict does for a binding): the store has the last word.
    if (cached && isSchedulingGated(cached.object.spec)) cur = await this.store.get<Pod>(key);
    if (!cur || cur.object.spec.nodeName || cur.object.metadata.deletionTimestamp) {
      this.queue.delete(key);
      if (cur) this.firstSeen.forget(cur.object.metadata.uid ?? '');
      return { done: Promise.resolve(null) };
    }
    const pod = cur.object;
    // A gated pod is not for the scheduler yet (kube-scheduler's SchedulingGates PreEnqueue): it
    // says SchedulingGated from its creation, and the update that removes its last gate asks again.
    if (isSchedulingGated(pod.spec)) {
      this.queue.delete(key);
      return { done: Promise.resolve(null) };
    }
    const uid = pod.metadata.uid ?? '';
    const generation = pod.metadata.generation ?? 0;
    const waiting = this.queue.get(key);
    if (waiting && !waiting.moved && waiting.uid === uid && waiting.generation === generation) {
      return { done: Promise.resolve({ unschedulable: waiting.message, rejectedBy: waiting.rejectedBy.slice() }) };
    }
    this.config.onAttempt?.(key);
    const t0 = performance.now();
    this.firstSeen.seen(uid);
    let decision: Decision;
    try {
      decision = schedule(podInfo(key, pod), this.cache, {
        policy: this.config.policy,
        lastNode: this.lastNode,
        startIndex: this.nextStartIndex,
        onVisited: (n) => { this.nextStartIndex += n; },
      });
    } catch (err) {
      attemptDone('error', t0);
      throw err;
    }
    const next = structuredClone(pod);
    const old = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const status = 'node' in decision ? 'True' : 'False';
    // The transition time moves only when the status does, as Kubernetes keeps it.
    const since = old?.status === status && old.lastTransitionTime ? old.lastTransitionTime : timestamp();
    const cond: PodCondition = 'node' in decision
      ? { type: 'PodScheduled', status, lastTransitionTime: since }
      : { type: 'PodScheduled', status, reason: 'Unschedulable', message: decision.unschedulable, lastTransitionTime: since };
    next.status = { ...next.status, conditions: [...(next.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled'), cond] };
    if ('node' in decision) {
      next.spec.nodeName = decision.node;
      const nodeObject = this.cache.byName.get(decision.node)?.node;
      // The WaitForFirstConsumer claims to bind on that node, from the view the decision read.
      const volumes = nodeObject ? planVolumeBindings(key, pod, this.cache, nodeObject) : [];
      const assumedStorage = assumedBindings(volumes, decision.node, new Date());
      this.queue.delete(key);
      // Counted before the write returns, so the next decision sees the room taken; forgotten if it fails.
      this.cache.assume(key, next);
      for (const o of assumedStorage) this.cache.storageChanged(storageKey(o), o);
      this.lastNode = decision.node;
      this.binding.add(key);
      const bound = volumes.length
        ? writeVolumeBindings(this.store, volumes, decision.node, new Date()).then(() => this.store.update(key, next, cur.revision))
        : this.store.update(key, next, cur.revision);
      const done = bound.then(
        (revision) => {
          log.info({ key, node: decision.node }, 'scheduled');
          attemptDone('scheduled', t0);
          this.firstSeen.bound(uid);
          this.events.scheduled(next, decision.node);
          return { ...decision, bound: next, revision };
        },
        async (err: unknown) => {
          attemptDone('error', t0);
          this.cache.forget(key);
          // The volumes and claims assumed bound are as the store has them.
          for (const o of assumedStorage) {
            const got = await this.store.get<PersistentVolume | PersistentVolumeClaim>(storageKey(o)).catch(() => undefined);
            if (got) this.cache.storageChanged(got.key, got.object);
          }
          await this.refreshOnConflict(key, cur.revision, err);
          throw err;
        },
      ).finally(() => { this.binding.delete(key); });
      // Settled by the asker; never an unhandled rejection when nobody waits any more.
      done.catch(() => undefined);
      return { done };
    }
    this.queue.add({ key, uid, generation, message: decision.unschedulable, rejectedBy: decision.rejectedBy, triedAtMs: Date.now() });
    if (!old || old.status !== 'False' || old.message !== decision.unschedulable) {
      try {
        await this.store.update(key, next, cur.revision);
      } catch (err) {
        attemptDone('error', t0);
        this.queue.delete(key); // tried afresh when asked again, so the condition does get written
        await this.refreshOnConflict(key, cur.revision, err);
        throw err;
      }
      log.info({ key, message: decision.unschedulable }, 'unschedulable');
    }
    attemptDone('unschedulable', t0);
    this.events.unschedulable(pod, decision.unschedulable);
    return { done: Promise.resolve(decision) };
  }
}

/** The store key of a volume or claim. */
function storageKey(o: PersistentVolume | PersistentVolumeClaim): string {
  return o.kind === 'PersistentVolume'
    ? objectKey(PersistentVolumeKind.plural, undefined, o.metadata.name)
    : objectKey(PersistentVolumeClaimKind.plural, o.metadata.namespace ?? 'default', o.metadata.name);
}
