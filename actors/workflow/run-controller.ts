/**
 * The WorkflowRun controller: the shell around the pure engine (engine/). Each run is one actor of
 * the workflowruns supervisor, and its journal is a JetStream subject of the control plane's
 * persistence engine (bus/persistence.ts, key `workflowrun-<uid>`, one writer per key).
 *
 * A step is: take one input (the start, a task's answer, a timer, a cancel) from the run's inbox,
 * let the engine decide, append its events to the journal (one message for the step when they
 * fit), and only then carry out its commands
 * (call a function, start a child run, arm a timer). A run whose actor is new (a restart, a new
 * leader) replays its journal, never user code, and does again what the journal says is still
 * open: a task is asked for under the same invocation id, so the gateway and the results bucket
 * answer it with its one recorded result; a timer is armed for the fireAt the journal holds.
 *
 * The status (phase, current states, output or error, times, the latest history rows) is written
 * after each batch of steps, at most every STATUS_WRITE_GAP_MS while the run goes on and at once
 * when it ends; the journal is the truth and the status follows it.
 */
import type { Bus, JetStreamPersistenceEngine, ObjectStore, Stored } from '../../bus';
import {
  isAlreadyExists, isValidation, objectKey, parseKey,
  type KubeObject, type WorkflowObject, type WorkflowRunHistoryRow, type WorkflowRunObject, type WorkflowRunStatus,
} from '../../messages';
import { isFinalPhase, MAX_STATUS_HISTORY, StatesErrors, type JsonValue, type PayloadRef } from '../../messages/workflow';
import { admitCreate, stableJson } from '../api/admission';
import type { KindController } from '../kind-supervisor';
import type { KindModule } from '../kind-module';
import { log } from '../log';
import {
  advance, history, initialRunState, resume, summarize,
  type EngineCommand, type EngineInput, type RunEvent, type RunState,
} from './engine';
import { isEventRef, type PayloadStore } from '../../bus/workflow-payloads';
import { taskCallId, type TaskAnswer, type TaskInvoker } from './tasks';

/** A journal message that holds the events of one step, all inline. */
interface EventBatch { events: RunEvent[] }
const isEventBatch = (v: unknown): v is EventBatch => typeof v === 'object' && v !== null && Array.isArray((v as Partial<EventBatch>).events);

/** The annotations a child run carries: the parent run's key and the invocation it answers. */
export const PARENT_RUN_ANNOTATION = 'workflows.mk.io/parent-run';
export const PARENT_INVOCATION_ANNOTATION = 'workflows.mk.io/parent-invocation';

/** The persistence keys of runs' journals: this and the run's uid. */
export const RUN_JOURNAL_PREFIX = 'workflowrun-';
/** The persistence key of a run's journal. */
export const runJournalKey = (uid: string): string => `${RUN_JOURNAL_PREFIX}${uid}`;

/** The longest a timer is set for at once (setTimeout's limit); a later fireAt is armed again when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the controller needs. */
export interface RunControllerDeps {
  store: ObjectStore;
  bus: Bus;
  /** Opens the journal (the control plane's persistence engine). */
  journal(): Promise<JetStreamPersistenceEngine>;
  /** Starts the task invoker (tasks.ts). */
  invoker(): Promise<TaskInvoker>;
  /** Opens the bucket of large payloads (payloads.ts). */
  payloads(): Promise<PayloadStore>;
  /** The WorkflowRun kind module, for admitting child runs. */
  runs: KindModule;
  now?: () => number;
  random?: () => number;
}

/** One run held by its actor. */
interface RunShell {
  key: string;
  uid: string;
  namespace: string;
  state: RunState;
  inbox: EngineInput[];
  timers: Map<string, NodeJS.Timeout>;
  /** Child runs started for Task states with `workflow`, by invocation id -> the child's key. */
  children: Map<string, string>;
  /** The latest history rows, and the timers' paths they need. */
  recent: WorkflowRunHistoryRow[];
  timerPaths: Map<string, string>;
  cancelQueued: boolean;
  /** Where a final output over the inline limit was put. */
  outputRef?: PayloadRef;
  /** When (real time, ms) this actor last wrote the run's status; 0 before its first write. */
  statusAt: number;
}

/**
 * The least time between two status writes of a running run. A run's steps can come faster than
 * anyone reads them; each write is a store write and an update to every watcher, so a running run
 * shows where it is at most this late. The first status and the final one are written at once.
 */
export const STATUS_WRITE_GAP_MS = 250;

/** The name of the child run of `invocationId` under `parent`: stable, so a second start finds the first. */
export function childRunName(parent: string, invocationId: string): string {
  const suffix = taskCallId(invocationId).slice(3, 13).toLowerCase().replace(/[^a-z0-9]/g, '0');
  return `${parent.slice(0, 63 - suffix.length - 1).replace(/-+$/, '')}-${suffix}`;
}

/** The WorkflowRun controller (see the module comment). */
export function workflowRunController(deps: RunControllerDeps): KindController {
  const { store } = deps;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const shells = new Map<string, RunShell>();
  /** The uid (and input object) of every run seen, by key: a deletion carries no object, and its journal and payloads must go. */
  const uids = new Map<string, { uid: string; inputRef?: PayloadRef }>();
  let engine: JetStreamPersistenceEngine | undefined;
  let invoker: TaskInvoker | undefined;
  let payloads: PayloadStore | undefined;
  let enqueue: (key: string) => boolean = () => false;

  const deliver = (shell: RunShell, input: EngineInput): void => {
    if (shells.get(shell.key) !== shell) return;
    shell.inbox.push(input);
    enqueue(shell.key);
  };
  const answered = (shell: RunShell, invocationId: string) => (a: TaskAnswer): void => {
    deliver(shell, a.ok
      ? { type: 'taskSucceeded', invocationId, output: a.output }
      : { type: 'taskFailed', invocationId, error: a.error, cause: a.cause });
  };

  /** Forgets a run's actor state: its timers and open calls (the journal stays). */
  const drop = (shell: RunShell): void => {
    for (const t of shell.timers.values()) clearTimeout(t);
    shell.timers.clear();
    for (const id of Object.keys(shell.state.tasks)) invoker?.cancel(id);
    if (shells.get(shell.key) === shell) shells.delete(shell.key);
  };

  const armTimer = (shell: RunShell, timerId: string, fireAt: string): void => {
    const prior = shell.timers.get(timerId);
    if (prior) clearTimeout(prior);
    const wait = Math.max(0, Date.parse(fireAt) - now());
    shell.timers.set(timerId, setTimeout(() => {
      shell.timers.delete(timerId);
      if (wait > MAX_TIMER_MS) armTimer(shell, timerId, fireAt);
      else deliver(shell, { type: 'timerFired', timerId });
    }, Math.min(wait, MAX_TIMER_MS)));
  };

  /** Starts (or finds) the child run of a Task with `workflow`, and answers from it once it is final. */
  const startChild = async (shell: RunShell, cmd: Extract<EngineCommand, { type: 'InvokeTask' }>, workflow: string): Promise<void> => {
    const parent = parseKey(shell.key).name;
    const name = childRunName(parent, cmd.invocationId);
    const key = objectKey('workflowruns', shell.namespace, name);
    shell.children.set(cmd.invocationId, key);
    const existing = await store.get<WorkflowRunObject>(key);
    if (existing) {
      if (isFinalPhase(existing.object.status?.phase)) answered(shell, cmd.invocationId)(childAnswer(existing.object));
      return;
    }
    const child = {
      apiVersion: 'mk.io/v1', kind: 'WorkflowRun',
      metadata: {
        name, namespace: shell.namespace,
        annotations: { [PARENT_RUN_ANNOTATION]: shell.key, [PARENT_INVOCATION_ANNOTATION]: cmd.invocationId },
        ownerReferences: [{ apiVersion: 'mk.io/v1', kind: 'WorkflowRun', name: parent, uid: shell.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { workflowRef: { name: workflow }, input: cmd.input },
    } as unknown as KubeObject;
    try {
      await store.create(key, admitCreate(deps.runs, child, shell.namespace, new Date(now())));
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  };

  const execute = async (shell: RunShell, cmd: EngineCommand): Promise<void> => {
    switch (cmd.type) {
      case 'InvokeTask':
        if ('function' in cmd.target) {
          invoker!.invoke({ namespace: shell.namespace, function: cmd.target.function, invocationId: cmd.invocationId, input: cmd.input }, answered(shell, cmd.invocationId));
        } else {
          await startChild(shell, cmd, cmd.target.workflow);
        }
        return;
      case 'CancelTask': {
        invoker!.cancel(cmd.invocationId);
        const child = shell.children.get(cmd.invocationId);
        shell.children.delete(cmd.invocationId);
        if (child) await cancelRun(child, 'its parent run no longer waits for it');
        return;
      }
      case 'StartTimer': armTimer(shell, cmd.timerId, cmd.fireAt); return;
      case 'CancelTimer': {
        const t = shell.timers.get(cmd.timerId);
        if (t) clearTimeout(t);
        shell.timers.delete(cmd.timerId);
        return;
      }
      case 'Finish': return;
    }
  };

  /** Asks a run to stop (sets spec.cancel); nothing when it is gone or already asked. */
  const cancelRun = async (key: string, reason: string): Promise<void> => {
    await store.mutate<WorkflowRunObject>(key, (cur) => (cur.spec.cancel ? cur : { ...cur, spec: { ...cur.spec, cancel: { reason } } }));
  };

  /**
   * Appends a step's events to the journal, in order, and adds their rows to the history. A step's
   * events that fit inline together are one journal message (one round trip, one single-writer
   * check); otherwise each is a message of its own, and one over the inline limit is a reference.
   */
  const append = async (shell: RunShell, events: readonly RunEvent[]): Promise<void> => {
    if (events.length === 0) return;
    if (events.length > 1) {
      const batch: EventBatch = { events: [...events] };
      if (Buffer.byteLength(JSON.stringify(batch)) <= payloads!.inlineLimit) {
        const last = events[events.length - 1];
        await engine!.persistRange({ data: batch, sequenceNumber: last.seq, key: runJournalKey(shell.uid), createdAt: Date.parse(last.at), tags: [] } as never, events[0].seq);
        remember(shell, events);
        return;
      }
    }
    for (const e of events) {
      // An event over the inline limit is kept in the payload bucket; the journal holds its reference.
      const data = Buffer.byteLength(JSON.stringify(e)) > payloads!.inlineLimit
        ? { $ref: await payloads!.put(`${shell.uid}/event-${e.seq}`, e as never), seq: e.seq, type: e.type }
        : e;
      await engine!.persist({ data, sequenceNumber: e.seq, key: runJournalKey(shell.uid), createdAt: Date.parse(e.at), tags: [] } as never);
    }
    remember(shell, events);
  };
  const remember = (shell: RunShell, events: readonly RunEvent[]): void => {
    shell.recent.push(...history(events, shell.timerPaths));
    if (shell.recent.length > MAX_STATUS_HISTORY) shell.recent.splice(0, shell.recent.length - MAX_STATUS_HISTORY);
  };

  /** Loads a run into a new actor state: from its journal, or a start when it has none. Undefined when it cannot start. */
  const load = async (cur: Stored<WorkflowRunObject>): Promise<RunShell | undefined> => {
    const run = cur.object;
    const uid = run.metadata.uid ?? '';
    const shell: RunShell = {
      key: cur.key, uid, namespace: run.metadata.namespace ?? 'default', state: initialRunState(), inbox: [],
      timers: new Map(), children: new Map(), recent: [], timerPaths: new Map(), cancelQueued: false, statusAt: 0,
    };
    const journal = (await engine!.events(runJournalKey(uid))) as unknown as { data: unknown }[];
    const events: RunEvent[] = [];
    for (const p of journal) {
      if (isEventBatch(p.data)) events.push(...p.data.events);
      else events.push(isEventRef(p.data) ? await payloads!.get(p.data.$ref) as unknown as RunEvent : p.data as RunEvent);
    }
    if (events.length === 0) {
      const spec = run.spec.workflow ?? (await store.get<WorkflowObject>(objectKey('workflows', shell.namespace, run.spec.workflowRef?.name ?? '')))?.object.spec;
      if (!spec) {
        await failUnstarted(cur, `workflow "${run.spec.workflowRef?.name ?? ''}" not found in namespace "${shell.namespace}"`);
        return undefined;
      }
      let input = (run.spec.input ?? {}) as JsonValue;
      if (run.spec.inputRef) {
        try {
          input = await payloads!.get(run.spec.inputRef);
        } catch (err) {
          if (!isValidation(err)) throw err;
          await failUnstarted(cur, `spec.inputRef: ${(err as Error).message}`);
          return undefined;
        }
      }
      shells.set(cur.key, shell);
      shell.inbox.push({ type: 'start', runId: uid, spec, input });
      return shell;
    }
    const r = resume(events, now());
    shell.state = r.state;
    remember(shell, events);
    shells.set(cur.key, shell);
    // The rest of a step cut short by the crash, then what it left open.
    if (r.events.length > 0) {
      await append(shell, r.events);
      shell.state = r.state;
    }
    for (const cmd of r.commands) await execute(shell, cmd);
    log.info({ key: cur.key, events: events.length, phase: shell.state.phase, open: Object.keys(shell.state.tasks).length + Object.keys(shell.state.timers).length }, 'workflow run resumed from its journal');
    return shell;
  };

  /** A run that could not start: Failed, with `cause`, and no journal. */
  const failUnstarted = async (cur: Stored<WorkflowRunObject>, cause: string): Promise<void> => {
    const at = new Date(now()).toISOString();
    const status: WorkflowRunStatus = {
      phase: 'Failed', startTime: at, completionTime: at, currentStates: [], events: 0,
      error: { error: StatesErrors.Runtime, cause },
    };
    await store.update(cur.key, { ...cur.object, status }, cur.revision);
    log.info({ key: cur.key, cause }, 'workflow run could not start');
  };

  /** Runs every input in the inbox through the engine: journal first, commands after. */
  const drain = async (shell: RunShell): Promise<void> => {
    while (shell.inbox.length > 0) {
      const input = shell.inbox.shift()!;
      const step = advance(shell.state, input, { now: now(), random });
      await append(shell, step.events);
      shell.state = step.state;
      for (const cmd of step.commands) await execute(shell, cmd);
    }
  };

  /** The status the run's state gives; an output over the inline limit is put in the payload bucket once. */
  const statusOf = async (shell: RunShell): Promise<WorkflowRunStatus> => {
    const s = summarize(shell.state);
    if (s.output !== undefined && (shell.outputRef !== undefined || Buffer.byteLength(JSON.stringify(s.output)) > payloads!.inlineLimit)) {
      shell.outputRef ??= await payloads!.put(`${shell.uid}/output`, s.output);
      delete s.output;
    }
    return {
      ...(shell.outputRef !== undefined ? { outputRef: shell.outputRef } : {}),
      phase: s.phase, currentStates: s.currentStates, events: s.events, history: shell.recent,
      ...(s.specHash !== undefined ? { specHash: s.specHash } : {}),
      ...(s.startTime !== undefined ? { startTime: s.startTime } : {}),
      ...(s.completionTime !== undefined ? { completionTime: s.completionTime } : {}),
      ...(s.output !== undefined ? { output: s.output } : {}),
      ...(s.error !== undefined ? { error: s.error } : {}),
    };
  };

  /** A final child run's answer to its parent's Task. */
  const childAnswer = (child: WorkflowRunObject): TaskAnswer => {
    const st = child.status ?? {};
    if (st.phase === 'Succeeded') return { ok: true, output: (st.output ?? null) as never };
    if (st.phase === 'Failed') return { ok: false, error: st.error?.error ?? StatesErrors.TaskFailed, cause: st.error?.cause ?? 'the child run failed' };
    return { ok: false, error: st.phase === 'TimedOut' ? StatesErrors.Timeout : StatesErrors.TaskFailed, cause: `the child run ${child.metadata.name} ended ${st.phase ?? 'Unknown'}` };
  };

  /** Tells the parent of a child run that has just finished. */
  const answerParent = (child: WorkflowRunObject): void => {
    const parentKey = child.metadata.annotations?.[PARENT_RUN_ANNOTATION];
    const invocation = child.metadata.annotations?.[PARENT_INVOCATION_ANNOTATION];
    if (!parentKey || !invocation) return;
    const parent = shells.get(parentKey);
    if (parent?.children.get(invocation) === objectKey('workflowruns', child.metadata.namespace, child.metadata.name)) {
      parent.children.delete(invocation);
      answered(parent, invocation)(childAnswer(child));
    } else {
      // The parent's actor is not loaded here: loading it asks for this child again and finds it final.
      enqueue(parentKey);
    }
  };

  /** Removes what a deleted run leaves: its journal and its payloads. */
  const forgetRun = async (uid: string, inputRef?: PayloadRef): Promise<void> => {
    await engine!.forget(runJournalKey(uid));
    await payloads!.removeRun(uid, inputRef);
  };

  return {
    plural: 'workflowruns',
    resyncMs: 60_000,
    bindEnqueue(e) { enqueue = e; },
    async prepare() {
      engine ??= await deps.journal();
      invoker ??= await deps.invoker();
      payloads ??= await deps.payloads();
    },
    async stop() {
      for (const shell of [...shells.values()]) drop(shell);
      await invoker?.stop();
      invoker = undefined;
    },
    async reconcile(key) {
      const cur = await store.get<WorkflowRunObject>(key);
      let shell = shells.get(key);
      if (!cur) {
        if (shell) drop(shell);
        const seen = uids.get(key);
        uids.delete(key);
        if (seen) await forgetRun(seen.uid, seen.inputRef).catch((err: unknown) => log.warn({ key, err: String(err) }, 'removing a run\'s journal and payloads failed'));
        return;
      }
      const run = cur.object;
      if (run.metadata.uid) uids.set(key, { uid: run.metadata.uid, ...(run.spec.inputRef ? { inputRef: run.spec.inputRef } : {}) });
      if (shell && shell.uid !== run.metadata.uid) { drop(shell); shell = undefined; }
      if (!shell) {
        if (isFinalPhase(run.status?.phase)) return;
        try {
          shell = await load(cur);
        } catch (err) {
          const held = shells.get(key);
          if (held) drop(held);
          throw err;
        }
        if (!shell) return;
      }
      if (run.spec.cancel && !shell.cancelQueued && !isFinalPhase(shell.state.phase)) {
        shell.cancelQueued = true;
        shell.inbox.push({ type: 'cancel', reason: run.spec.cancel.reason ?? 'cancelled' });
      }
      try {
        await drain(shell);
      } catch (err) {
        // The journal is the truth: the next reconcile loads the run from it again.
        drop(shell);
        throw err;
      }
      const final = isFinalPhase(shell.state.phase);
      const wait = shell.statusAt + STATUS_WRITE_GAP_MS - performance.now();
      if (!final && shell.statusAt > 0 && wait > 0) return { requeueAfterMs: wait };
      const status = await statusOf(shell);
      if (stableJson(status) !== stableJson(run.status ?? {})) {
        // Checked by revision: a run changed meanwhile (a cancel) is a Conflict, retried soon with the actor state kept.
        await store.update(key, { ...run, status }, cur.revision);
        shell.statusAt = performance.now();
      }
      if (final) {
        drop(shell);
        answerParent({ ...run, status: await statusOf(shell) });
        log.info({ key, phase: shell.state.phase, events: shell.state.events }, 'workflow run finished');
      }
    },
  };
}
