/**
 * Delivers triggers' firings to their targets and sees each one to its end (firing.ts decides):
 *
 * - a function target gets an async call through a gateway under the try's id (tasks.ts, with
 *   `retry: false`: the trigger's maxAttempts and backoff govern the retries), and its answer
 *   comes from the results bucket;
 * - a workflow target gets a WorkflowRun named by the try's id, owned by the trigger, whose final
 *   phase is its answer (the controller's informer on runs wakes the trigger when one changes).
 *
 * Every firing is a record in the firings bucket, written before its first try starts; a
 * restarted engine loads the open records and starts their current try again under the same id
 * (the same call, the same run), or arms the wait before the next one. A firing handed on twice
 * (a schedule after a restart, a message delivered again) finds its record and is not fired
 * twice. What a trigger did since its status was last written is counted here (takeDelta).
 */
import type { KV } from '@nats-io/kv';
import type { Bus, ObjectStore, RecordEvent } from '../../bus';
import {
  isAlreadyExists, isNotFound, objectKey, TRIGGER_DLQ_CAPTURE,
  type KubeObject, type Trigger, type WorkflowJsonValue, type WorkflowRunObject,
} from '../../messages';
import { isFinalPhase } from '../../messages/workflow';
import { admitCreate } from '../api/admission';
import type { KindModule } from '../kind-module';
import { log } from '../log';
import type { TaskInvoker } from '../workflow/tasks';
import { decideConcurrency, deliveryPolicy } from './delivery';
import { afterAttempt, currentAttemptId, firingKey, isEnded, nextAttempt, type FiringRecord } from './firing';
import { targetInput } from './input';

/** The label and annotation a trigger's WorkflowRuns carry: the trigger's name and the firing. */
export const TRIGGER_LABEL = 'mk.io/trigger';
export const FIRING_ANNOTATION = 'triggers.mk.io/firing';

/** What a trigger did since its status was last written. */
export interface FiringDelta {
  firings: number;
  succeeded: number;
  failed: number;
  deadLettered: number;
  skipped: number;
  /** The last firing's time (RFC 3339). */
  lastFiringTime?: string;
}

const emptyDelta = (): FiringDelta => ({ firings: 0, succeeded: 0, failed: 0, deadLettered: 0, skipped: 0 });

type Input =
  | { type: 'answer'; firing: string; attempt: number; outcome: { ok: true } | { ok: false; error: string } }
  | { type: 'retry'; firing: string };

/** One trigger's firings in progress. */
interface Firings {
  key: string;
  uid: string;
  trigger: Trigger;
  open: Map<string, FiringRecord>;
  inbox: Input[];
  timers: Map<string, NodeJS.Timeout>;
  delta: FiringDelta;
}

/** What the deliverer needs. */
export interface DelivererDeps {
  store: ObjectStore;
  bus: Bus;
  firings: KV;
  invoker: TaskInvoker;
  /** The WorkflowRun kind module, for admitting runs. */
  runs: KindModule;
  recordEvent: RecordEvent;
  /** Asks for a reconcile of the trigger with this key (an answer came, a wait is over). */
  wake(key: string): void;
  now?: () => number;
}

/** How a firing handed on came out. */
export type FireResult = 'fired' | 'exists' | 'skipped';

/** The deliverer (see the module comment). */
export interface Deliverer {
  /** Loads the trigger's open firings once per engine, and starts their tries again. */
  load(key: string, t: Trigger): Promise<void>;
  /** Fires `firing` with `event` once: 'exists' when it was fired before, 'skipped' by concurrencyPolicy Forbid. */
  fire(key: string, t: Trigger, firing: string, event: unknown): Promise<FireResult>;
  /** Takes in the answers and waits that ended, and reads the runs of workflow tries. */
  step(key: string, t: Trigger): Promise<void>;
  /** The firings running or waiting for their next try. */
  active(uid: string): number;
  /** What the trigger did since the last call (then zero). */
  takeDelta(uid: string): FiringDelta;
  /** Counts a delta taken again (its status write failed). */
  giveBack(uid: string, d: FiringDelta): void;
  /** Forgets a deleted trigger: its timers and waits (its records expire with the bucket). */
  forget(uid: string): void;
  stop(): void;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Starts a deliverer (see the module comment). */
export function startDeliverer(deps: DelivererDeps): Deliverer {
  const { store, firings: kv, invoker } = deps;
  const now = deps.now ?? Date.now;
  const byUid = new Map<string, Firings>();
  let stopped = false;

  const invocationOf = (rec: FiringRecord): string => `${rec.uid}/${currentAttemptId(rec)}`;
  const obj = (t: Trigger): KubeObject => t as unknown as KubeObject;

  const read = async (key: string): Promise<FiringRecord | undefined> => {
    const e = await kv.get(key);
    if (!e || e.operation !== 'PUT' || e.value.length === 0) return undefined;
    return JSON.parse(dec.decode(e.value)) as FiringRecord;
  };
  /** Writes the record where its phase says; an ended one leaves the open keys. */
  const save = async (rec: FiringRecord): Promise<void> => {
    if (isEnded(rec.phase)) {
      await kv.put(firingKey(rec.uid, rec.firing, true), enc.encode(JSON.stringify(rec)));
      await kv.delete(firingKey(rec.uid, rec.firing, false));
    } else {
      await kv.put(firingKey(rec.uid, rec.firing, false), enc.encode(JSON.stringify(rec)));
    }
  };

  const push = (f: Firings, input: Input): void => {
    if (stopped || byUid.get(f.uid) !== f) return;
    f.inbox.push(input);
    deps.wake(f.key);
  };

  const armRetry = (f: Firings, rec: FiringRecord): void => {
    const prior = f.timers.get(rec.firing);
    if (prior) clearTimeout(prior);
    const wait = Math.max(0, (rec.nextAttemptAt ?? now()) - now());
    f.timers.set(rec.firing, setTimeout(() => {
      f.timers.delete(rec.firing);
      push(f, { type: 'retry', firing: rec.firing });
    }, Math.min(wait, 2 ** 31 - 1)).unref());
  };

  /** Starts the record's current try (again, after a restart: the same id). */
  const startAttempt = async (f: Firings, rec: FiringRecord): Promise<void> => {
    const id = currentAttemptId(rec);
    const namespace = f.trigger.metadata.namespace ?? 'default';
    if (rec.target.kind === 'function') {
      const attempt = rec.attempt;
      invoker.invoke(
        { namespace, function: rec.target.name, invocationId: invocationOf(rec), callId: id, input: (rec.input ?? null) as WorkflowJsonValue },
        (a) => push(f, { type: 'answer', firing: rec.firing, attempt, outcome: a.ok ? { ok: true } : { ok: false, error: `${a.error}: ${a.cause}` } }),
      );
      return;
    }
    const run = {
      apiVersion: 'mk.io/v1', kind: 'WorkflowRun',
      metadata: {
        name: id, namespace,
        labels: { [TRIGGER_LABEL]: f.trigger.metadata.name },
        annotations: { [FIRING_ANNOTATION]: rec.firing },
        ownerReferences: [{ apiVersion: 'mk.io/v1', kind: 'Trigger', name: f.trigger.metadata.name, uid: f.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { workflowRef: { name: rec.target.name }, input: rec.input ?? null },
    } as unknown as KubeObject;
    try {
      await store.create(objectKey('workflowruns', namespace, id), admitCreate(deps.runs, run, namespace, new Date(now())));
      log.debug({ key: f.key, run: id }, 'trigger run created');
    } catch (err) {
      // Made before a restart: the same try, read in step().
      if (!isAlreadyExists(err)) throw err;
    }
  };

  /** A workflow try's outcome from its run, or undefined while it runs. */
  const runOutcome = async (f: Firings, rec: FiringRecord): Promise<{ ok: true } | { ok: false; error: string } | undefined> => {
    const id = currentAttemptId(rec);
    const got = await store.get<WorkflowRunObject>(objectKey('workflowruns', f.trigger.metadata.namespace ?? 'default', id));
    if (!got) return { ok: false, error: `the run ${id} was deleted before it ended` };
    const owned = got.object.metadata.ownerReferences?.some((r) => r.uid === f.uid);
    if (!owned) return { ok: false, error: `a WorkflowRun named ${id} exists and is not this trigger's` };
    const st = got.object.status;
    if (!isFinalPhase(st?.phase)) return undefined;
    if (st?.phase === 'Succeeded') return { ok: true };
    return { ok: false, error: st?.error ? `${st.error.error}${st.error.cause ? `: ${st.error.cause}` : ''}` : `the run ${id} ended ${st?.phase ?? 'Unknown'}` };
  };

  /** Stops a running firing for Replace: a workflow run is cancelled, a function call is no longer waited for. */
  const replace = async (f: Firings, rec: FiringRecord, by: string): Promise<void> => {
    if (rec.phase === 'Running') {
      if (rec.target.kind === 'function') {
        invoker.cancel(invocationOf(rec));
      } else {
        const key = objectKey('workflowruns', f.trigger.metadata.namespace ?? 'default', currentAttemptId(rec));
        await store.mutate<WorkflowRunObject>(key, (cur) => (cur.spec.cancel ? cur : { ...cur, spec: { ...cur.spec, cancel: { reason: `replaced by firing ${by}` } } }))
          .catch((err: unknown) => { if (!isNotFound(err)) throw err; });
      }
    }
    const t = f.timers.get(rec.firing);
    if (t) clearTimeout(t);
    f.timers.delete(rec.firing);
    await save({ ...rec, phase: 'Replaced', ended: new Date(now()).toISOString() });
    f.open.delete(rec.firing);
  };

  /** Publishes a dead letter: through JetStream under mk.trigger.dlq. (its stream keeps it), else plainly. */
  const publishDeadLetter = async (t: Trigger, letter: unknown, msgId: string): Promise<void> => {
    const subject = deliveryPolicy(t).deadLetterSubject;
    const data = enc.encode(JSON.stringify(letter));
    if (subject.startsWith(TRIGGER_DLQ_CAPTURE.slice(0, -1))) {
      await deps.bus.js.publish(subject, data, { msgID: msgId });
    } else {
      deps.bus.nc.publish(subject, data);
      await deps.bus.nc.flush();
    }
  };

  /** Applies one input; throws on a bus fault (the input goes back to the inbox). */
  const apply = async (f: Firings, input: Input): Promise<void> => {
    const rec = f.open.get(input.firing);
    if (!rec) return;
    if (input.type === 'retry') {
      if (rec.phase !== 'Waiting') return;
      const next = nextAttempt(rec);
      await save(next);
      f.open.set(next.firing, next);
      await startAttempt(f, next);
      return;
    }
    if (rec.phase !== 'Running' || rec.attempt !== input.attempt) return;
    const policy = deliveryPolicy(f.trigger);
    const after = afterAttempt(rec, input.outcome, policy, now());
    const t = obj(f.trigger);
    if (!input.outcome.ok) {
      f.delta.failed++;
      const why = input.outcome.error;
      if (after.retryInMs !== undefined) {
        deps.recordEvent(t, 'Warning', 'FailedDelivery', `Firing ${rec.firing} try ${rec.attempt}/${policy.maxAttempts} failed: ${why}; trying again in ${Math.round(after.retryInMs / 1000)}s`);
      } else {
        deps.recordEvent(t, 'Warning', 'FailedDelivery', `Firing ${rec.firing} try ${rec.attempt}/${policy.maxAttempts} failed: ${why}`);
      }
    }
    if (after.deadLetter) {
      await publishDeadLetter(f.trigger, after.deadLetter, `${f.uid}-${rec.firing}`);
      deps.recordEvent(t, 'Warning', 'DeadLettered', `Firing ${rec.firing} failed ${rec.attempt} time(s); published to ${policy.deadLetterSubject}`);
      f.delta.deadLettered++;
    }
    if (after.record.phase === 'Succeeded') f.delta.succeeded++;
    await save(after.record);
    if (isEnded(after.record.phase)) f.open.delete(rec.firing); else f.open.set(rec.firing, after.record);
    if (after.record.phase === 'Waiting') armRetry(f, after.record);
  };

  const firingsOf = (key: string, t: Trigger): Firings => {
    const uid = t.metadata.uid ?? '';
    let f = byUid.get(uid);
    if (!f) {
      f = { key, uid, trigger: t, open: new Map(), inbox: [], timers: new Map(), delta: emptyDelta() };
      byUid.set(uid, f);
      loaded.delete(uid);
    }
    f.trigger = t;
    return f;
  };
  const loaded = new Set<string>();
  const loading = new Map<string, Promise<void>>();

  function forget(uid: string): void {
    const f = byUid.get(uid);
    if (!f) return;
    for (const t of f.timers.values()) clearTimeout(t);
    for (const rec of f.open.values()) if (rec.target.kind === 'function') invoker.cancel(invocationOf(rec));
    byUid.delete(uid);
    loaded.delete(uid);
  }

  const load = async (key: string, t: Trigger): Promise<void> => {
    const f = firingsOf(key, t);
    if (loaded.has(f.uid)) return;
    let p = loading.get(f.uid);
    if (!p) {
      p = (async () => {
        const keys: string[] = [];
        for await (const k of await kv.keys(`open.${f.uid}.*`)) keys.push(k);
        for (const k of keys) {
          const rec = await read(k);
          if (!rec || f.open.has(rec.firing)) continue;
          f.open.set(rec.firing, rec);
          if (rec.phase === 'Waiting') armRetry(f, rec); else await startAttempt(f, rec);
        }
        loaded.add(f.uid);
        if (keys.length > 0) log.info({ key, open: keys.length }, 'trigger firings resumed');
      })().finally(() => loading.delete(f.uid));
      loading.set(f.uid, p);
    }
    await p;
  };

  return {
    load,
    async fire(key, t, firing, event) {
      await load(key, t);
      const f = firingsOf(key, t);
      if (f.open.has(firing) || await read(firingKey(f.uid, firing, true))) return 'exists';
      const policy = deliveryPolicy(t);
      const at = new Date(now()).toISOString();
      const target = t.spec.target.function !== undefined
        ? { kind: 'function' as const, name: t.spec.target.function }
        : { kind: 'workflow' as const, name: t.spec.target.workflow ?? '' };
      const rec: FiringRecord = {
        trigger: `${t.metadata.namespace ?? 'default'}/${t.metadata.name}`, uid: f.uid, firing, target,
        input: targetInput(t.spec.target, event), attempt: 1, phase: 'Running', created: at,
      };
      const decision = decideConcurrency(policy.concurrencyPolicy, f.open.size);
      if (decision === 'skip') {
        await save({ ...rec, phase: 'Skipped', ended: at });
        f.delta.skipped++;
        deps.recordEvent(obj(t), 'Normal', 'Skipped', `Skipped firing ${firing}: ${f.open.size} still running (concurrencyPolicy Forbid)`);
        return 'skipped';
      }
      if (decision === 'replace') for (const old of [...f.open.values()]) await replace(f, old, firing);
      try {
        await kv.create(firingKey(f.uid, firing, false), enc.encode(JSON.stringify(rec)));
      } catch (err) {
        // Made meanwhile (another path fired it): that record is the firing.
        if (await read(firingKey(f.uid, firing, false))) return 'exists';
        throw err;
      }
      f.open.set(firing, rec);
      f.delta.firings++;
      f.delta.lastFiringTime = at;
      await startAttempt(f, rec);
      deps.recordEvent(obj(t), 'Normal', 'Fired', `Fired ${firing}: ${target.kind} ${target.name}${target.kind === 'workflow' ? ` (run ${firing})` : ''}`);
      return 'fired';
    },
    async step(key, t) {
      const f = firingsOf(key, t);
      while (f.inbox.length > 0) {
        const input = f.inbox.shift()!;
        try {
          await apply(f, input);
        } catch (err) {
          f.inbox.unshift(input);
          throw err;
        }
      }
      for (const rec of [...f.open.values()]) {
        if (rec.phase !== 'Running' || rec.target.kind !== 'workflow') continue;
        const outcome = await runOutcome(f, rec);
        if (outcome) await apply(f, { type: 'answer', firing: rec.firing, attempt: rec.attempt, outcome });
      }
    },
    active: (uid) => byUid.get(uid)?.open.size ?? 0,
    takeDelta(uid) {
      const f = byUid.get(uid);
      if (!f) return emptyDelta();
      const d = f.delta;
      f.delta = emptyDelta();
      return d;
    },
    giveBack(uid, d) {
      const f = byUid.get(uid);
      if (!f) return;
      for (const k of ['firings', 'succeeded', 'failed', 'deadLettered', 'skipped'] as const) f.delta[k] += d[k];
      if (d.lastFiringTime && !f.delta.lastFiringTime) f.delta.lastFiringTime = d.lastFiringTime;
    },
    forget,
    stop() {
      stopped = true;
      for (const uid of [...byUid.keys()]) forget(uid);
    },
  };
}
