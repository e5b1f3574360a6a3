/**
 * The scheduler: one actor, so binding decisions are made one at a time and two pods never take
 * the same free room. Pod actors ask it to place their pod; it decides from a cache of nodes and
 * pods (cache.ts) rather than listing the store for every pod, and binds by writing spec.nodeName
 * with the revision of its copy (a stale copy is a Conflict, retried by the asking pod actor),
 * deciding the next pod while that write is on its way (the bound pod counts at once). Pods
 * that fit nowhere wait in its queue (queue.ts) and are tried again when a change could help them,
 * at most once a second, or after the flush interval: never in a loop.
 */
import { dispatch, spawn, type Ref } from 'nact';
import { EventRecorder, type ObjectStore, type RecordEvent } from '../../bus';
import { log } from '../log';
import { describeActor } from '../../common/actor-telemetry';
import { backoffOnCrash } from '../../common/supervision';
import { Scheduler, type Placement, type SchedulerConfig, type SchedulingEvents } from './scheduler';

export type { SchedulerConfig } from './scheduler';

/**
 * The scheduler's answer: a decision (with the pod as bound, when it was), null (nothing to do),
 * or the error that stopped it.
 */
export type ScheduleReply = Placement | null | { error: unknown };
/**
 * What the scheduler hears: a pod actor's request to place its pod, a wake-up after a crash, a
 * retry of moved pods and the periodic flush check (these two from its own timers).
 */
export type SchedulerMsg =
  | { type: 'scheduler/schedule'; key: string; sender: Ref<ScheduleReply> }
  | { type: 'scheduler/wake' }
  | { type: 'scheduler/retry' }
  | { type: 'scheduler/flush' };
/** The scheduler actor, as controllers hold it. */
export type SchedulerRef = Ref<SchedulerMsg>;

/** The component name on the scheduler's events, as Kubernetes' scheduler reports itself. */
export const SCHEDULER_COMPONENT = 'default-scheduler';
/** FailedScheduling with an unchanged message is recorded at most this often per pod. */
export const FAILED_SCHEDULING_INTERVAL_MS = 30_000;
/** Retries of moved pods start at most this often (kube-scheduler's initial pod backoff is 1 s). */
export const RETRY_SPACING_MS = 1_000;
/** Moved pods tried in one retry message. */
const RETRY_BATCH = 100;
/** How often the queue is checked for pods that waited the flush interval (kube-scheduler: 30 s). */
const FLUSH_CHECK_MS = 30_000;
/** Pods remembered for that rate limit; beyond this the oldest are forgotten. */
const MAX_REMEMBERED = 10_000;

/**
 * Spawns the scheduler under `parent`. It records `Scheduled` and `FailedScheduling` events with
 * `recordEvent` (default: a recorder on the store's bus, component `default-scheduler`).
 */
export function spawnScheduler(
  parent: Ref<unknown>,
  store: ObjectStore,
  config: SchedulerConfig = {},
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
  // The actor's own ref, for the timers; set once spawned.
  const me: { ref?: Ref<SchedulerMsg> } = {};
  let retryTimer: NodeJS.Timeout | undefined;
  let lastRetryMs = 0;
  const requestRetry = () => {
    const ref = me.ref;
    if (retryTimer || !ref) return;
    retryTimer = setTimeout(() => { retryTimer = undefined; dispatch(ref, { type: 'scheduler/retry' }); }, Math.max(0, lastRetryMs + RETRY_SPACING_MS - Date.now()));
    retryTimer.unref();
  };
  const scheduler = new Scheduler(store, config, events, requestRetry);
  const flushTimer = setInterval(() => { if (me.ref) dispatch(me.ref, { type: 'scheduler/flush' }); }, Math.min(FLUSH_CHECK_MS, scheduler.flushMs));
  flushTimer.unref();
  let started: Promise<void> | undefined;
  const ref = spawn(
    parent,
    async (state: Record<string, never> = {}, msg: SchedulerMsg): Promise<Record<string, never>> => {
      // The cache is made on first use and again after a crash (a reset clears `started`).
      started ??= scheduler.cache.start(store).catch((err: unknown) => { started = undefined; throw err; });
      await started;
      switch (msg.type) {
        case 'scheduler/schedule': {
          // A store error (a Conflict with a concurrent writer, a pod deleted meanwhile) belongs to the
          // asking pod actor, which retries; it must not stop scheduling for everyone. The next pod
          // is decided while this one's binding is written; the answer waits for the write.
          const sender = msg.sender;
          try {
            const { done } = await scheduler.start(msg.key);
            done.then((placed) => dispatch(sender, placed), (error: unknown) => dispatch(sender, { error }));
          } catch (error) {
            dispatch(sender, { error });
          }
          break;
        }
        case 'scheduler/retry':
          lastRetryMs = Date.now();
          // A slice at a time, so pod actors' requests that came meanwhile wait no longer than one.
          if (await scheduler.retryMoved(RETRY_BATCH)) dispatch(me.ref!, { type: 'scheduler/retry' });
          break;
        case 'scheduler/flush':
          if (scheduler.flush()) requestRetry();
          break;
      }
      return state;
    },
    'scheduler',
    {
      initialStateFunc: () => { started = undefined; return {}; },
      onCrash: backoffOnCrash({ type: 'scheduler/wake' }, (f, m) => log.error(f, m)),
      afterStop: () => {
        clearInterval(flushTimer);
        if (retryTimer) clearTimeout(retryTimer);
        void scheduler.cache.stop();
      },
    },
  );
  describeActor(ref, { kind: 'scheduler', system: true });
  me.ref = ref;
  return ref;
}
