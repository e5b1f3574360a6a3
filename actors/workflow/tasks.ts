/**
 * How workflow runs call functions: as async calls through a gateway (embedded/gateway/async.ts),
 * each under an id made from the task's invocation id (`<runId>/<path>/<attempt>`), so a call made
 * again after a control-plane restart is the same call: the gateway's queue drops the duplicate
 * and the results bucket keeps its one recorded answer, which is read before anything is queued.
 * The call asks for no retries of its own (`retry: false`): a Task's retry policy is the
 * workflow's, and each of its attempts has its own invocation id.
 *
 * Answers come from a watch on the results bucket, with a slow poll of the calls still open as a
 * safety net (a watch restarted with the bus misses nothing that the poll does not find).
 */
import { createHash } from 'node:crypto';
import { KvWatchInclude } from '@nats-io/kv';
import { openAsyncQueue, type AsyncQueue } from '../../bus/function-async';
import type { Bus } from '../../bus';
import { StatesErrors } from '../../messages/workflow';
import {
  asyncInvokeSubject, type AsyncResult, type AsyncSubmit, type InvokeReply, type WorkflowJsonValue as JsonValue,
} from '../../messages';
import { log } from '../log';

/** The answer of one task attempt. */
export type TaskAnswer = { ok: true; output: JsonValue } | { ok: false; error: string; cause: string };

/** One function call of a run (or of a trigger's firing). */
export interface TaskCall {
  namespace: string;
  function: string;
  invocationId: string;
  /**
   * The async call id, when the caller names it (a trigger's try: its firing id); otherwise
   * taskCallId(invocationId). Must be an ASYNC_ID.
   */
  callId?: string;
  input: JsonValue;
}

/** Calls functions for workflow runs and trigger firings. */
export interface TaskInvoker {
  /** Calls `call.function` once under its invocation id; `answer` is called once, unless the call is cancelled first. */
  invoke(call: TaskCall, answer: (a: TaskAnswer) => void): void;
  /** Stops waiting for a call (its answer, if one comes, is dropped). */
  cancel(invocationId: string): void;
  /** Stops the watch, the poll and every wait. */
  stop(): Promise<void>;
}

/** The async call id of a task invocation: `wf-` and 40 characters of its hash (an ASYNC_ID). */
export function taskCallId(invocationId: string): string {
  return `wf-${createHash('sha256').update(invocationId).digest('base64url').slice(0, 40)}`;
}

/** How long a queued call waits for the gateway's reply (ms). */
const SUBMIT_TIMEOUT_MS = 10_000;
/** Between tries to queue a call while no gateway takes it (ms). */
const RESUBMIT_MS = 2_000;
/** How many times a gateway must say it does not know a task's function before the task fails. */
const NOT_FOUND_TRIES = 3;
/** Between polls of the calls still open (ms). */
const POLL_MS = 5_000;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A function's error name: the exception type its loader reports (`RuntimeError: ...`), else States.TaskFailed. */
export function errorNameOf(r: Pick<AsyncResult, 'code' | 'error' | 'result'>): string {
  const body = r.result as { errorType?: unknown } | undefined;
  if (body && typeof body === 'object' && typeof body.errorType === 'string' && body.errorType !== '') return body.errorType;
  if (r.code === 504) return StatesErrors.Timeout;
  const m = /^([A-Za-z_][\w.]*)(?::|$)/.exec(r.error ?? '');
  return m ? m[1] : StatesErrors.TaskFailed;
}

/** What a final result answers. */
export function answerOf(r: AsyncResult): TaskAnswer {
  if (r.status === 'Succeeded') return { ok: true, output: (r.result ?? null) as JsonValue };
  return { ok: false, error: errorNameOf(r), cause: r.error ?? 'the function failed' };
}

const isFinal = (r: AsyncResult | undefined): r is AsyncResult => r?.status === 'Succeeded' || r?.status === 'Failed';

interface Waiter {
  call: TaskCall;
  id: string;
  answer: (a: TaskAnswer) => void;
  /** Whether the gateway has queued the call. */
  queued: boolean;
  /** How many times the gateway said it does not know the function. */
  notFound: number;
  timer?: NodeJS.Timeout;
}

/** Starts the invoker on `bus` (the results bucket and the async streams are the control plane's). */
export async function startTaskInvoker(bus: Bus): Promise<TaskInvoker> {
  const q: AsyncQueue = await openAsyncQueue(bus.nc);
  /** Open calls by their async call id. */
  const waiters = new Map<string, Waiter>();
  const byInvocation = new Map<string, string>();
  let stopped = false;

  const settle = (id: string, a: TaskAnswer): void => {
    const w = waiters.get(id);
    if (!w) return;
    waiters.delete(id);
    byInvocation.delete(w.call.invocationId);
    if (w.timer) clearTimeout(w.timer);
    w.answer(a);
  };
  const read = async (id: string): Promise<AsyncResult | undefined> => {
    const e = await q.results.get(id);
    if (!e || e.operation !== 'PUT' || e.value.length === 0) return undefined;
    return JSON.parse(dec.decode(e.value)) as AsyncResult;
  };

  /** Reads the stored result first; queues the call when there is none, and tries again while no gateway answers. */
  const submit = async (w: Waiter): Promise<void> => {
    if (stopped || waiters.get(w.id) !== w) return;
    try {
      const known = await read(w.id);
      if (isFinal(known)) { settle(w.id, answerOf(known)); return; }
      const req: AsyncSubmit = { body: JSON.stringify(w.call.input), id: w.id, retry: false };
      const msg = await bus.nc.request(asyncInvokeSubject(w.call.namespace, w.call.function), enc.encode(JSON.stringify(req)), { timeout: SUBMIT_TIMEOUT_MS });
      const reply = JSON.parse(dec.decode(msg.data)) as InvokeReply;
      const why = (reply.body as { error?: unknown } | null)?.error;
      if (reply.status === 202) { w.queued = true; return; }
      // A function the gateway does not know may only be missing from a listing cut short (a
      // restarting bus): it is asked for again a few times before the task fails.
      if (reply.status === 404 && ++w.notFound < NOT_FOUND_TRIES) {
        log.warn({ invocation: w.call.invocationId, error: why }, 'a task\'s function is not known to the gateway; asking again');
      } else if (reply.status >= 400 && reply.status < 500 && reply.status !== 429) {
        // The call itself is wrong (a missing function, an input over the limit): no retry helps.
        settle(w.id, { ok: false, error: StatesErrors.TaskFailed, cause: typeof why === 'string' ? why : `the gateway answered ${reply.status}` });
        return;
      } else {
        log.warn({ invocation: w.call.invocationId, status: reply.status, error: why }, 'a task (a workflow\'s or a trigger\'s) could not be queued; trying again');
      }
    } catch (err) {
      log.warn({ invocation: w.call.invocationId, err: (err as Error).message }, 'no gateway took a task (a workflow\'s or a trigger\'s); trying again');
    }
    if (!stopped && waiters.get(w.id) === w) w.timer = setTimeout(() => { void submit(w); }, RESUBMIT_MS);
  };

  // Every key: an id's `wf-` prefix is part of one token, which a subject filter cannot match.
  const watcher = await q.results.watch({ include: KvWatchInclude.UpdatesOnly });
  void (async () => {
    for await (const e of watcher) {
      if (e.operation !== 'PUT' || !waiters.has(e.key)) continue;
      try {
        const r = JSON.parse(dec.decode(e.value)) as AsyncResult;
        if (isFinal(r)) settle(e.key, answerOf(r));
      } catch (err) {
        log.warn({ key: e.key, err: (err as Error).message }, 'an unreadable async result');
      }
    }
  })().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'the workflow results watch ended'));

  const poll = setInterval(() => {
    for (const w of [...waiters.values()]) {
      if (!w.queued) continue;
      read(w.id).then((r) => { if (isFinal(r)) settle(w.id, answerOf(r)); }, () => undefined);
    }
  }, POLL_MS);

  return {
    invoke(call, answer) {
      const id = call.callId ?? taskCallId(call.invocationId);
      if (waiters.has(id)) { waiters.get(id)!.answer = answer; return; }
      const w: Waiter = { call, id, answer, queued: false, notFound: 0 };
      waiters.set(id, w);
      byInvocation.set(call.invocationId, id);
      void submit(w);
    },
    cancel(invocationId) {
      const id = byInvocation.get(invocationId);
      if (id === undefined) return;
      const w = waiters.get(id);
      if (w?.timer) clearTimeout(w.timer);
      waiters.delete(id);
      byInvocation.delete(invocationId);
    },
    async stop() {
      stopped = true;
      clearInterval(poll);
      for (const w of waiters.values()) if (w.timer) clearTimeout(w.timer);
      waiters.clear();
      byInvocation.clear();
      watcher.stop();
    },
  };
}
