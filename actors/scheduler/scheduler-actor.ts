/**
 * The scheduler: one actor, so binding decisions are made one at a time and two pods never take
 * the same free room. Pod actors ask it to place their pod; it decides from a cache of nodes and
 * pods (cache.ts) rather than listing the store for every pod, and binds by writing spec.nodeName
 * with the revision it read (a stale read is a Conflict, retried by the asking pod actor).
 */
import { spawn, dispatch, type Ref } from 'nact';
import { EventRecorder, type ObjectStore, type RecordEvent } from '../../bus';
import { timestamp, type Pod, type PodCondition } from '../../messages';
import { log } from '../log';
import { backoffOnCrash } from '../../common/supervision';
import { SchedulerCache } from './cache';
import { schedule, type Decision } from './schedule';

/**
 * The scheduler's answer: a decision (with the pod as bound, when it was), null (nothing to do),
 * or the error that stopped it.
 */
export type ScheduleReply = (Decision & { bound?: Pod }) | null | { error: unknown };
export type SchedulerMsg = { type: 'scheduler/schedule'; key: string; sender: Ref<ScheduleReply> } | { type: 'scheduler/wake' };
/** The scheduler actor, as controllers hold it. */
export type SchedulerRef = Ref<SchedulerMsg>;

/** The component name on the scheduler's events, as Kubernetes' scheduler reports itself. */
export const SCHEDULER_COMPONENT = 'default-scheduler';
/** FailedScheduling with an unchanged message is recorded at most this often per pod. */
export const FAILED_SCHEDULING_INTERVAL_MS = 30_000;
/** Pods remembered for that rate limit; beyond this the oldest are forgotten. */
const MAX_REMEMBERED = 10_000;

/**
 * Spawns the scheduler under `parent`. It records `Scheduled` and `FailedScheduling` events with
 * `recordEvent` (default: a recorder on the store's bus, component `default-scheduler`).
 */
export function spawnScheduler(
  parent: Ref<unknown>,
  store: ObjectStore,
  recordEvent: RecordEvent = new EventRecorder(store.bus, { component: SCHEDULER_COMPONENT }).recordEvent,
): Ref<SchedulerMsg> {
  const failed = new Map<string, { message: string; atMs: number }>();
  const events: SchedulingEvents = {
    scheduled(pod, node) {
      failed.delete(pod.metadata.uid ?? '');
      recordEvent(pod, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace ?? 'default'}/${pod.metadata.name} to ${node}`);
    },
    unschedulable(pod, message) {
      const uid = pod.metadata.uid ?? '';
      const prev = failed.get(uid);
      const now = Date.now();
      if (prev && prev.message === message && now - prev.atMs < FAILED_SCHEDULING_INTERVAL_MS) return;
      failed.delete(uid);
      failed.set(uid, { message, atMs: now });
      if (failed.size > MAX_REMEMBERED) failed.delete(failed.keys().next().value as string);
      recordEvent(pod, 'Warning', 'FailedScheduling', message);
    },
  };
  const cache = new SchedulerCache();
  let started: Promise<void> | undefined;
  return spawn(
    parent,
    async (state: Record<string, never> = {}, msg: SchedulerMsg): Promise<Record<string, never>> => {
      // The cache is made on first use and again after a crash (a reset clears `started`).
      started ??= cache.start(store).catch((err: unknown) => { started = undefined; throw err; });
      await started;
      if (msg.type !== 'scheduler/schedule') return state;
      // A store error (a Conflict with a concurrent writer, a pod deleted meanwhile) belongs to the
      // asking pod actor, which retries; it must not stop scheduling for everyone.
      try {
        dispatch(msg.sender, await place(store, cache, msg.key, events));
      } catch (error) {
        dispatch(msg.sender, { error });
      }
      return state;
    },
    'scheduler',
    {
      initialStateFunc: () => { started = undefined; return {}; },
      onCrash: backoffOnCrash({ type: 'scheduler/wake' }, (f, m) => log.error(f, m)),
      afterStop: () => { void cache.stop(); },
    },
  );
}

/** What the scheduler tells the events stream. */
interface SchedulingEvents {
  scheduled(pod: Pod, node: string): void;
  /** Rate-limited: a new message, or the same one after FAILED_SCHEDULING_INTERVAL_MS. */
  unschedulable(pod: Pod, message: string): void;
}

/** Places one pod (read fresh from the store; the rest from the cache); null when it is gone or already bound. */
async function place(store: ObjectStore, cache: SchedulerCache, key: string, events: SchedulingEvents): Promise<(Decision & { bound?: Pod }) | null> {
  const cur = await store.get<Pod>(key);
  if (!cur || cur.object.spec.nodeName || cur.object.metadata.deletionTimestamp) return null;
  const decision = schedule(cur.object, cache.allNodes(), cache.allPods());
  const now = timestamp();
  const pod = structuredClone(cur.object);
  const cond: PodCondition = 'node' in decision
    ? { type: 'PodScheduled', status: 'True', lastTransitionTime: now }
    : { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: decision.unschedulable, lastTransitionTime: now };
  const old = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if ('node' in decision) {
    pod.spec.nodeName = decision.node;
  } else if (old && old.status === cond.status && old.message === cond.message) {
    events.unschedulable(cur.object, decision.unschedulable);
    return decision; // nothing new to say in status
  }
  pod.status = { ...pod.status, conditions: [...(pod.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled'), cond] };
  await store.update(key, pod, cur.revision);
  if ('node' in decision) cache.assume(key, pod);
  log.info({ key, ...decision }, 'node' in decision ? 'scheduled' : 'unschedulable');
  if ('node' in decision) events.scheduled(pod, decision.node);
  else events.unschedulable(pod, decision.unschedulable);
  return 'node' in decision ? { ...decision, bound: pod } : decision;
}
