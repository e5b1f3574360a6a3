/**
 * The Trigger controller: one level-triggered actor per trigger (actors/kind-supervisor.ts),
 * running on the leading control plane only. Each reconcile binds the trigger's source and hands
 * its due firings to the deliverer (deliverer.ts), then writes the status:
 *
 * - schedule: scheduleDecision (schedule.ts) names the due times; each fires under an id fixed by
 *   its scheduled time, and status.lastScheduleTime is written only after they were handed on, so
 *   a restart neither misses nor doubles a firing. The reconcile is asked again just after the
 *   next time. The clock is the CronJob controller's (MK_CRONJOB_CLOCK_SCALE for tests).
 * - subject and http: a durable consumer of the events stream (bus/trigger-streams.ts) filtered
 *   to the trigger's subject (an HTTP trigger's: the subject its gateway publishes firings on);
 *   each message that passes the filters fires once under an id fixed by its stream sequence and
 *   is acked once the firing is recorded. The stream's subjects follow the subject triggers
 *   (capture.ts says how overlapping subjects are captured).
 * - file: the node named by spec.source.file.node watches the path (node-agent/triggers) and
 *   publishes each change, acked by JetStream, on the trigger's file subject; from there it is
 *   consumed as an HTTP firing is, once the message is checked to come from that node and to be a
 *   change the trigger asked for (file-source.ts). The node learns its file triggers through the
 *   node api (actors/node/file-triggers-api.ts) and is nudged on mk.node.<node>.file-triggers
 *   whenever what it watches for a trigger changes or the trigger goes.
 *
 * Events: Fired, FailedDelivery, DeadLettered (deliverer.ts), Skipped, and the schedule's warnings.
 */
import type { KV } from '@nats-io/kv';
import { encode, EventRecorder, startInformer, type Bus, type Informer, type ObjectStore, type RecordEvent } from '../../bus';
import {
  deleteTriggerConsumer, ensureTriggerConsumer, openFiringsBucket, setCapturedSubjects, triggerConsumerName, triggerConsumerUids,
} from '../../bus/trigger-streams';
import {
  fileTriggersNudgeSubject, keyFilter, messageFiringId, NodeKind, objectKey, scheduleFiringId, triggerFileSubject, triggerHttpSubject,
  type KubeObject, type Trigger, type TriggerCondition, type TriggerStatus, type WorkflowRunObject,
} from '../../messages';
import { stableJson } from '../api/admission';
import { cronClockFromEnv, type CronClock } from '../cronjob/controller';
import type { KindController } from '../kind-supervisor';
import type { KindModule } from '../kind-module';
import { log } from '../log';
import type { TaskInvoker } from '../workflow/tasks';
import { captureSubjects, covers } from './capture';
import { startDeliverer, type Deliverer, type FiringDelta } from './deliverer';
import { fileFiring, fileWatchKey } from './file-source';
import { matchesFilters } from './filters';
import { scheduleDecision } from './schedule';
import { eventOf, filterInputOf, startSubscription, type Subscription } from './subscription';

/** The component trigger events are recorded as. */
export const TRIGGER_CONTROLLER_COMPONENT = 'trigger-controller';

/** Between tries to bind a source that could not be bound (ms). */
const BIND_RETRY_MS = 5_000;

/** What the controller needs. */
export interface TriggerControllerDeps {
  store: ObjectStore;
  bus: Bus;
  /** Starts the function invoker (actors/workflow/tasks.ts). */
  invoker(): Promise<TaskInvoker>;
  /** The WorkflowRun kind module, for admitting runs. */
  runs: KindModule;
  recordEvent?: RecordEvent;
  clock?: CronClock;
}

/** The controller's hold on one trigger. */
interface Shell {
  uid: string;
  trigger: Trigger;
  sub?: Subscription;
  /** What the trigger's node was last told to watch (fileWatchKey), and that node. */
  watched?: { key: string; node: string };
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The trigger controller (see the module comment). */
export function triggerController(deps: TriggerControllerDeps): KindController {
  const { store, bus } = deps;
  const recordEvent = deps.recordEvent ?? new EventRecorder(bus, { component: TRIGGER_CONTROLLER_COMPONENT }).recordEvent;
  const clock = deps.clock ?? cronClockFromEnv();
  const shells = new Map<string, Shell>();
  let enqueue: (key: string) => boolean = () => false;
  let deliverer: Deliverer | undefined;
  let invoker: TaskInvoker | undefined;
  let kv: KV | undefined;
  let runs: Informer | undefined;
  /** Run key -> the key of the trigger that owns it, for deletions (which carry no object). */
  const owners = new Map<string, string>();

  /** Sets the events stream's subjects from every subject trigger in the store; one at a time. */
  let capturing: Promise<void> = Promise.resolve();
  let applied: string | undefined;
  /** What the stream was last set to capture (by this controller). */
  let captured: string[] = [];
  const syncCapture = (): Promise<void> => {
    capturing = capturing.catch(() => undefined).then(async () => {
      const { items } = await store.list<Trigger>(keyFilter('triggers'));
      const capture = captureSubjects(items.flatMap((i) => (i.object.spec?.source?.subject ? [i.object.spec.source.subject.subject] : [])));
      const text = capture.join(' ');
      if (text === applied) return;
      await setCapturedSubjects(bus.jsm, capture);
      applied = text;
      captured = capture;
      log.info({ capture }, 'trigger events stream captures new subjects');
    });
    return capturing;
  };

  /** Tells a node to ask for its file triggers again (it also does every 30 s). */
  const nudge = (node: string): void => {
    try {
      bus.nc.publish(fileTriggersNudgeSubject(node), encode({}));
    } catch (err) {
      log.warn({ node, err: (err as Error).message }, 'could not nudge a node about its file triggers; it finds them on its next resync');
    }
  };

  /** Nudges the nodes concerned when what the trigger's node watches changed (or the trigger went: `t` undefined). */
  const nudgeWatchers = (shell: Shell, t: Trigger | undefined): void => {
    const key = t ? fileWatchKey(t) : undefined;
    const node = t?.spec.source.file?.node;
    if (key === shell.watched?.key) return;
    if (shell.watched && shell.watched.node !== node) nudge(shell.watched.node);
    if (key !== undefined && node !== undefined) {
      nudge(node);
      shell.watched = { key, node };
    } else {
      delete shell.watched;
    }
  };

  /** Lets go of a trigger that is gone (or made again under its name with another uid). */
  const release = async (key: string, shell: Shell): Promise<void> => {
    shells.delete(key);
    await shell.sub?.stop();
    nudgeWatchers(shell, undefined);
    deliverer?.forget(shell.uid);
    await deleteTriggerConsumer(bus.jsm, shell.uid);
  };

  /** Runs the consumer loop of a subject, HTTP or file trigger on `subject`. */
  const subscribe = async (key: string, shell: Shell, subject: string): Promise<void> => {
    if (shell.sub?.subject === subject) return;
    await shell.sub?.stop();
    shell.sub = startSubscription(bus.js, triggerConsumerName(shell.uid), subject, async (m) => {
      const t = shells.get(key)?.trigger;
      if (!t || t.metadata.uid !== shell.uid) throw new Error('the trigger is gone');
      const firing = messageFiringId(t.metadata.name, m.seq);
      let event: unknown;
      if (t.spec.source.file) {
        const got = fileFiring(t, m.subject, eventOf(m.data), firing);
        if ('ignored' in got) {
          log.warn({ key, subject: m.subject, seq: m.seq, why: got.ignored }, 'a file firing was ignored');
          return;
        }
        event = got.event;
      } else {
        if (!matchesFilters(t.spec.source.subject?.filters, filterInputOf(m))) return;
        event = eventOf(m.data);
      }
      await deliverer!.fire(key, t, firing, event);
      enqueue(key);
    }, (f, msg) => log.warn({ ...f, key }, msg));
  };

  /** Binds the source; returns the Ready condition, the status changes and when to come back. */
  const bind = async (key: string, shell: Shell, t: Trigger): Promise<{ ready: TriggerCondition; lastScheduleTime?: string; skipped: number; requeueAfterMs?: number }> => {
    const src = t.spec.source;
    const ns = t.metadata.namespace ?? 'default';
    if (src.schedule) {
      const now = clock.now();
      const created = clock.at(Date.parse(t.metadata.creationTimestamp ?? '') || Date.now());
      const last = t.status?.lastScheduleTime ? Date.parse(t.status.lastScheduleTime) : undefined;
      const d = scheduleDecision(src.schedule, { created, ...(last !== undefined && !Number.isNaN(last) ? { lastScheduleTime: last } : {}), now });
      for (const at of d.fire) {
        const firing = scheduleFiringId(t.metadata.name, at);
        await deliverer!.fire(key, t, firing, { trigger: `${ns}/${t.metadata.name}`, firing, scheduledTime: iso(at) });
      }
      for (const e of d.events) recordEvent(t as unknown as KubeObject, e.type, e.reason, e.message);
      const broken = d.events.find((e) => e.reason === 'UnparseableSchedule');
      const ready: TriggerCondition = broken
        ? { type: 'Ready', status: 'False', reason: 'UnparseableSchedule', message: broken.message }
        : { type: 'Ready', status: 'True', reason: 'Scheduled', message: d.nextAt !== undefined ? 'the schedule is armed' : 'no firing is left to come' };
      return {
        ready, skipped: d.skipped,
        ...(d.lastScheduleTime !== undefined ? { lastScheduleTime: iso(d.lastScheduleTime) } : {}),
        ...(d.nextAt !== undefined ? { requeueAfterMs: clock.realDelay(Math.max(0, d.nextAt - now)) } : {}),
      };
    }
    if (src.subject || src.http) {
      const subject = src.subject ? src.subject.subject : triggerHttpSubject(ns, t.metadata.name);
      try {
        // A subject the stream already captures needs no look at every trigger (a reconcile per message).
        if (src.subject && !captured.some((c) => covers(c, subject))) await syncCapture();
        await ensureTriggerConsumer(bus.jsm, shell.uid, subject, new Date(Date.parse(t.metadata.creationTimestamp ?? '') || Date.now()));
        await subscribe(key, shell, subject);
        const message = src.subject ? `listening on ${subject}` : `serving ${(src.http?.methods ?? ['POST']).join(', ')} ${src.http?.path ?? ''} on the gateways`;
        return { ready: { type: 'Ready', status: 'True', reason: 'Subscribed', message }, skipped: 0 };
      } catch (err) {
        log.warn({ key, err: (err as Error).message }, 'a trigger source could not be bound; trying again');
        return { ready: { type: 'Ready', status: 'False', reason: 'SubscribeFailed', message: (err as Error).message }, skipped: 0, requeueAfterMs: BIND_RETRY_MS };
      }
    }
    if (src.file) {
      const { node, path } = src.file;
      try {
        await ensureTriggerConsumer(bus.jsm, shell.uid, triggerFileSubject(node, ns, t.metadata.name), new Date(Date.parse(t.metadata.creationTimestamp ?? '') || Date.now()));
        await subscribe(key, shell, triggerFileSubject(node, ns, t.metadata.name));
        nudgeWatchers(shell, t);
      } catch (err) {
        log.warn({ key, err: (err as Error).message }, 'a trigger source could not be bound; trying again');
        return { ready: { type: 'Ready', status: 'False', reason: 'SubscribeFailed', message: (err as Error).message }, skipped: 0, requeueAfterMs: BIND_RETRY_MS };
      }
      // Bound all the same: the node watches once it joins, and its changes are kept until then.
      if (!await store.get(objectKey(NodeKind.plural, undefined, node))) {
        return {
          ready: { type: 'Ready', status: 'False', reason: 'NodeNotFound', message: `node ${node} does not exist; ${path} is watched once it joins` },
          skipped: 0, requeueAfterMs: BIND_RETRY_MS,
        };
      }
      return { ready: { type: 'Ready', status: 'True', reason: 'Watching', message: `watching ${path} on node ${node}` }, skipped: 0 };
    }
    return { ready: { type: 'Ready', status: 'False', reason: 'Unsupported', message: 'the source is not one mk serves' }, skipped: 0 };
  };

  /** The status after this pass: the counts added, the times and the condition. */
  const nextStatus = (prev: TriggerStatus, t: Trigger, d: FiringDelta, b: { ready: TriggerCondition; lastScheduleTime?: string; skipped: number }, active: number): TriggerStatus => {
    const was = prev.conditions?.find((c) => c.type === 'Ready');
    const same = was && was.status === b.ready.status && was.reason === b.ready.reason && was.message === b.ready.message;
    const ready: TriggerCondition = same ? was : { ...b.ready, lastTransitionTime: iso(Date.now()), observedGeneration: t.metadata.generation };
    const lastScheduleTime = b.lastScheduleTime ?? prev.lastScheduleTime;
    const lastFiringTime = d.lastFiringTime ?? prev.lastFiringTime;
    return {
      ...(lastScheduleTime ? { lastScheduleTime } : {}),
      ...(lastFiringTime ? { lastFiringTime } : {}),
      firings: (prev.firings ?? 0) + d.firings,
      succeeded: (prev.succeeded ?? 0) + d.succeeded,
      failed: (prev.failed ?? 0) + d.failed,
      deadLettered: (prev.deadLettered ?? 0) + d.deadLettered,
      skipped: (prev.skipped ?? 0) + d.skipped + b.skipped,
      active,
      conditions: [ready, ...(prev.conditions ?? []).filter((c) => c.type !== 'Ready')],
      ...(t.metadata.generation !== undefined ? { observedGeneration: t.metadata.generation } : {}),
    };
  };

  return {
    plural: 'triggers',
    resyncMs: 30_000,
    bindEnqueue(e) { enqueue = e; },
    async ensure() {
      kv = await openFiringsBucket(bus.js, bus.replicas);
    },
    async prepare() {
      kv ??= await openFiringsBucket(bus.js, bus.replicas);
      invoker ??= await deps.invoker();
      deliverer ??= startDeliverer({ store, bus, firings: kv, invoker, runs: deps.runs, recordEvent, wake: (k) => { enqueue(k); } });
      await runs?.stop();
      owners.clear();
      runs = await startInformer<WorkflowRunObject>(store, keyFilter('workflowruns'), (ev) => {
        const before = owners.get(ev.key);
        let key: string | undefined;
        if (ev.type === 'DELETE' || !ev.object) {
          owners.delete(ev.key);
        } else {
          const owner = ev.object.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'Trigger' && r.apiVersion === 'mk.io/v1');
          if (owner) key = objectKey('triggers', ev.object.metadata.namespace, owner.name);
          if (key) owners.set(ev.key, key); else owners.delete(ev.key);
        }
        if (key) enqueue(key);
        if (before && before !== key) enqueue(before);
      });
    },
    async listed() {
      // Consumers of triggers deleted while no controller ran go, and the stream's subjects follow.
      const { items } = await store.list<Trigger>(keyFilter('triggers'));
      const uids = new Set(items.map((i) => i.object.metadata.uid));
      for (const uid of await triggerConsumerUids(bus.jsm)) if (!uids.has(uid)) await deleteTriggerConsumer(bus.jsm, uid);
      await syncCapture();
    },
    async stop() {
      await runs?.stop();
      runs = undefined;
      await Promise.all([...shells.values()].map((s) => s.sub?.stop()));
      shells.clear();
      deliverer?.stop();
      deliverer = undefined;
      await invoker?.stop();
      invoker = undefined;
    },
    async reconcile(key) {
      const cur = await store.get<Trigger>(key);
      let shell = shells.get(key);
      if (!cur) {
        if (shell) {
          await release(key, shell);
          if (shell.trigger.spec.source.subject) await syncCapture();
        }
        return;
      }
      const t = cur.object;
      const uid = t.metadata.uid ?? '';
      if (shell && shell.uid !== uid) { await release(key, shell); shell = undefined; }
      if (!shell) shells.set(key, (shell = { uid, trigger: t }));
      shell.trigger = t;
      // A source changed away from a message source: its loop stops (a new subject's loop replaces it in bind).
      if (!t.spec.source.subject && !t.spec.source.http && !t.spec.source.file && shell.sub) { await shell.sub.stop(); shell.sub = undefined; await deleteTriggerConsumer(bus.jsm, uid); }
      // A source changed away from a file: its node stops watching.
      if (!t.spec.source.file) nudgeWatchers(shell, t);
      await deliverer!.load(key, t);
      const bound = await bind(key, shell, t);
      await deliverer!.step(key, t);
      const delta = deliverer!.takeDelta(uid);
      try {
        await store.mutate<Trigger>(key, (now) => {
          if (now.metadata.uid !== uid) return null;
          const status = nextStatus(now.status ?? {}, now, delta, bound, deliverer!.active(uid));
          return stableJson(status) === stableJson(now.status ?? {}) ? null : { ...now, status };
        });
      } catch (err) {
        deliverer!.giveBack(uid, delta);
        throw err;
      }
      return bound.requeueAfterMs !== undefined ? { requeueAfterMs: bound.requeueAfterMs } : undefined;
    },
  };
}
