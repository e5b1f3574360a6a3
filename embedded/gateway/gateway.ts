/**
 * The function gateway: takes calls over HTTP (`POST /function/<ns>/<name>`) and NATS
 * (request/reply on `mk.fn.invoke.<ns>.<name>`, in a queue group), queues each until an instance
 * of the function has a free slot, sends it to that instance's loader (`POST /run`) and answers
 * with the loader's answer. It reads functions and their instance pods through the api's list
 * (no store access), and reports its load to the function controller every second and at once
 * when a call waits with no free slot, so the controller scales from zero. It also serves the
 * paths of HTTP triggers (triggers.ts): a request with an allowed method becomes a firing on the
 * trigger events stream, answered 202 with the firing's id.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Msg, Status, Subscription } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { decode, encode, request, type CoreBus } from '../../bus/core-client';
import { register } from '../../common/metrics';
import {
  API, DEFAULT_QUEUE_BOUND, DRAINING_ANNOTATION, FUNCTION_INVOKE_QUEUE, FUNCTION_INVOKE_WILDCARD, FUNCTION_LABEL, FUNCTION_PORT,
  functionDemandSubject, functionStatsSubject, MAX_INVOKE_BODY_BYTES,
  type FunctionDemand, type FunctionLoad, type FunctionObject, type GatewayStats, type InvokeReply, type ListResult, type Pod, type Trigger,
} from '../../messages';
import { decodeToken } from '../../messages/names';
import {
  ASYNC_INVOKE_WILDCARD, DLQ_LIST_SUBJECT, DLQ_REPLAY_SUBJECT, RESULTS_GET_SUBJECT, type AsyncSubmit,
} from '../../messages/function-async';
import { startAsyncWorker, type AsyncWorker } from './async';
import { checkAsyncId, checkCallbackUrl, parseAsyncRequest } from './async-policy';
import { gatewayLatency, gatewayQueueDepth, gatewayRequests } from './metrics';
import { CallQueue, DeadlineError, QueueFullError, type Instance, type Slot } from './queue';
import { httpTriggerRoutes, publishHttpFiring, type HttpTriggerRoute } from './triggers';

/** How long the rest of a refused (413) body is read and dropped before its connection is closed. */
const DRAIN_AFTER_413_MS = 1000;
/** The listing period of an idle gateway (GatewayOptions.idleRefreshMs). */
const IDLE_REFRESH_MS = 2000;
/** How long after a call a function still counts as busy (listed every refreshMs). */
const ACTIVE_WINDOW_MS = 60_000;
/** The listing period while a call waits for a function with no ready instance (GatewayOptions.coldRefreshMs). */
const COLD_REFRESH_MS = 25;
/** How long a call waits for a listing that succeeds (the api restarting) before an unknown function is answered 503. */
const LIST_WAIT_MS = 30_000;
/** How long a call to a known function waits for a fresh listing after an idle spell before it is served from the view it has. */
const KNOWN_LIST_WAIT_MS = 2_000;
/** Between listings that failed while a call waits for one. */
const LIST_RETRY_MS = 100;

/** How the gateway is set up. */
export interface GatewayOptions {
  bus: CoreBus;
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** How often functions and pods are listed again while calls come (ms, default 250). */
  refreshMs?: number;
  /**
   * How often when no call came for a minute and none waits (ms; default 2000, or refreshMs when
   * that is given): an idle cluster is not asked 8 lists a second.
   */
  idleRefreshMs?: number;
  /**
   * How often while a call waits for a function that has no ready instance (ms, default 25): the
   * first instance is used as soon as it is ready, not up to refreshMs later.
   */
  coldRefreshMs?: number;
  /** How often load is reported (ms, default 1000). */
  reportMs?: number;
  queueBound?: number;
  /** The port instances' loaders listen on (FUNCTION_PORT; tests run loaders elsewhere). */
  instancePort?: number;
  /** How long stop() lets calls in flight finish before it closes their connections (ms, default 10 000). */
  stopGraceMs?: number;
  /**
   * Async calls (embedded/gateway/async.ts): on by default; `false` serves sync calls only (a bus
   * without the async streams). The fields tune the worker (tests shorten the retry waits).
   */
  async?: false | { maxInFlight?: number; backoffMs?: readonly number[]; maxAttempts?: number };
  log?: (fields: object, msg: string) => void;
}

/** A running gateway. */
export interface Gateway {
  id: string;
  /** `http://<host>:<port>` */
  url: string;
  /** Calls `<ns>/<name>` with the JSON text `body` (what both faces do). */
  invoke(namespace: string, name: string, body: string): Promise<InvokeReply & { retryAfter?: number }>;
  /** Queues an async call of `<ns>/<name>` (validated as a sync call is): 202 `{ id }`, or the error. */
  invokeAsync(namespace: string, name: string, body: string, opts?: { id?: string; callback?: string }): Promise<InvokeReply>;
  stop(): Promise<void>;
}

/** Per function: its queue and what the controller is told. */
interface Route {
  fn: FunctionObject;
  queue: CallQueue;
  lastInvocation?: number;
  recycle: Set<string>;
  lastDemand: number;
  /** Status codes counted under this function (their label sets go with it). */
  codes: Set<string>;
}

const fail = (status: number, error: string): InvokeReply => ({ status, body: { error } });

/** The `function` label of calls to a function that does not exist: a caller's name never becomes a label set. */
export const UNKNOWN_FUNCTION_LABEL = '<unknown>';

/** Room left in a NATS reply for the envelope around a result (`{"status":...,"body":...}`). */
const REPLY_ENVELOPE_BYTES = 1024;
/** The largest result the gateway passes on when the server's max_payload is not known. */
const DEFAULT_MAX_RESULT_BYTES = 1024 * 1024 - REPLY_ENVELOPE_BYTES;

/** Room in an async job's message for its headers (id, callback, dates). */
const ASYNC_ENVELOPE_BYTES = 8 * 1024;

/** Thrown by send() when an instance's answer passed the result limit. */
class ResultTooLargeError extends Error {
  override readonly name = 'ResultTooLargeError';
  constructor(readonly limit: number) { super(`result larger than ${limit} bytes`); }
}

/** Socket errors after which a call may go to another instance, if the request was not yet written. */
const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ECONNRESET', 'EPIPE']);

/**
 * True when the request never reached the instance: a connection error before the request was
 * written. Once written, the instance may have run it, so no error of any code makes it safe to
 * send again.
 */
export function notSent(err: NodeJS.ErrnoException, written: boolean): boolean {
  return !written && err.code !== undefined && RETRYABLE_CODES.has(err.code);
}

/** Starts the gateway: lists functions and pods, listens on HTTP, serves the invoke subject. */
export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const id = `gw-${randomUUID().slice(0, 8)}`;
  const log = opts.log ?? (() => undefined);
  const bound = opts.queueBound ?? DEFAULT_QUEUE_BOUND;
  const routes = new Map<string, Route>();
  const functions = new Map<string, FunctionObject>();
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const instancePort = opts.instancePort ?? FUNCTION_PORT;
  const maxPayload = opts.bus.nc.info?.max_payload;
  /** The largest result passed on: what fits a NATS reply with its envelope. */
  const maxResult = maxPayload ? Math.max(1, maxPayload - REPLY_ENVELOPE_BYTES) : DEFAULT_MAX_RESULT_BYTES;
  let stopped = false;
  /** HTTP triggers by path (triggers.ts), from the last listing that succeeded. */
  let hooks = new Map<string, HttpTriggerRoute>();
  /** JetStream for HTTP firings, made at the first (a gateway without HTTP triggers never needs it). */
  let triggerJs: ReturnType<typeof jetstream> | undefined;
  /** Calls being answered (both faces), so stop() can wait for them. */
  let active = 0;
  let onIdle: (() => void) | undefined;

  /**
   * Lists functions and pods and takes them as the view; a listing that `current()` no longer
   * wants by the time its answers are in (abandoned at a reconnect) changes nothing.
   */
  const refresh = async (current: () => boolean): Promise<boolean> => {
    const fns = await request<ListResult>(opts.bus, API.gatewayList, { kind: 'functions' });
    // No function, no instance to look for (a pod left of a deleted one is never routed to).
    const pods = fns.items.length === 0 && routes.size === 0 ? { items: [] }
      : await request<ListResult>(opts.bus, API.gatewayList, { kind: 'pods', labelSelector: FUNCTION_LABEL });
    // A control plane that does not know triggers yet leaves the gateway serving functions.
    const triggers = await request<ListResult>(opts.bus, API.gatewayList, { kind: 'triggers' })
      .catch((err: unknown) => { log({ err: (err as Error).message }, 'listing HTTP triggers failed'); return undefined; });
    if (!current()) return false;
    if (triggers) hooks = httpTriggerRoutes(triggers.items as unknown as Trigger[]);
    functions.clear();
    for (const o of fns.items as unknown as FunctionObject[]) functions.set(`${o.metadata.namespace ?? 'default'}/${o.metadata.name}`, o);
    const byFn = new Map<string, Instance[]>();
    /** Every instance pod that still exists, by function (draining and terminating ones too). */
    const existing = new Map<string, Set<string>>();
    for (const p of pods.items as unknown as Pod[]) {
      const key = `${p.metadata.namespace ?? 'default'}/${p.metadata.labels?.[FUNCTION_LABEL] ?? ''}`;
      let names = existing.get(key);
      if (!names) existing.set(key, (names = new Set()));
      names.add(p.metadata.name);
      const fn = functions.get(key);
      if (!fn || !p.metadata.ownerReferences?.some((r) => r.uid === fn.metadata.uid)) continue;
      if (p.metadata.deletionTimestamp || p.metadata.annotations?.[DRAINING_ANNOTATION] === 'true') continue;
      const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      if (!ready || !p.status?.podIP) continue;
      let l = byFn.get(key);
      if (!l) byFn.set(key, (l = []));
      l.push({ pod: p.metadata.name, ip: p.status.podIP });
    }
    for (const [key, r] of routes) {
      // A recycled pod that is gone is forgotten (its name is never reported again).
      const names = existing.get(key) ?? new Set<string>();
      for (const pod of r.recycle) if (!names.has(pod)) r.recycle.delete(pod);
      r.queue.forget(names);
      const fn = functions.get(key);
      if (!fn) {
        r.queue.failAll(new Error('gone'));
        r.queue.setInstances([], 1);
        if (r.queue.idle()) {
          // The function was deleted and nothing of it is left here: its route and label sets go.
          routes.delete(key);
          const labels = { namespace: r.fn.metadata.namespace ?? 'default', function: r.fn.metadata.name };
          gatewayQueueDepth.remove(labels);
          gatewayLatency.remove(labels);
          for (const code of r.codes) gatewayRequests.remove({ ...labels, code });
        }
        continue;
      }
      r.fn = fn;
      r.queue.setInstances(byFn.get(key) ?? [], fn.spec.concurrency ?? 1);
    }
    return true;
  };

  /** The listing in flight: whoever needs a listing waits for it; `abandon` ends the wait (see onReconnect). */
  let refreshing: { done: Promise<void>; started: number; abandon: () => void } | undefined;
  /** When the last listing that succeeded started (ms since the epoch): GatewayStats.viewAt. */
  let viewAt: number | undefined;
  /** When the last listing that succeeded started (performance.now()). */
  let lastListedOk = -Infinity;
  const refreshNow = (): Promise<void> => {
    if (!refreshing) {
      const started = performance.now();
      const startedAt = Date.now();
      let abandon: () => void = () => undefined;
      const abandoned = new Promise<void>((r) => { abandon = r; });
      const current = (): boolean => refreshing?.done === done;
      const done: Promise<void> = Promise.race([
        refresh(current).then((took) => {
          if (!took) return;
          viewAt = Math.max(viewAt ?? 0, startedAt);
          lastListedOk = Math.max(lastListedOk, started);
        }).catch((err: unknown) => { if (current()) log({ err }, 'listing functions failed'); }),
        abandoned,
      ]).finally(() => { if (current()) refreshing = undefined; });
      refreshing = { done, started, abandon };
    }
    return refreshing.done;
  };
  /**
   * The connection came back (a NATS restart, a network blip): a listing in flight is given up
   * and a new one starts at once. Its request, or the api's own reads of the store behind it, most
   * likely went with the old connection, and waiting out their timeouts (5 to 10 s) would keep
   * calls to a function scaling from zero from the instances that became ready meanwhile.
   */
  const onReconnect = (): void => {
    if (stopped) return;
    const inFlight = refreshing;
    if (inFlight) {
      refreshing = undefined;
      inFlight.abandon();
      log({ startedMsAgo: Math.round(performance.now() - inFlight.started) }, 'the bus reconnected: listing again instead of waiting for the listing in flight');
    }
    void refreshNow();
  };
  // nats.js hands back a QueuedIterator: stop() ends it and removes its listener (the bus outlives the gateway).
  const busStatus = opts.bus.nc.status() as AsyncIterable<Status> & { stop?: () => void };
  void (async () => {
    for await (const s of busStatus) if (s.type === 'reconnect') onReconnect();
  })().catch((err: unknown) => log({ err }, 'watching the bus connection failed'));
  /**
   * Waits for a listing that started at or after `since` and succeeded (one already running that
   * began earlier may predate a new function; a failed one says nothing), up to `waitMs`; false
   * when none did (the api does not answer: a control plane restarting).
   */
  const listedSince = async (since: number, waitMs: number): Promise<boolean> => {
    const end = performance.now() + waitMs;
    while (lastListedOk < since && !stopped) {
      const failedBefore = lastListedOk;
      await refreshNow();
      if (lastListedOk >= since || performance.now() >= end) break;
      // A listing that failed is tried again a little later; one that began before `since` at once.
      if (lastListedOk === failedBefore) await new Promise((r) => setTimeout(r, Math.min(LIST_RETRY_MS, Math.max(0, end - performance.now()))));
    }
    return lastListedOk >= since;
  };
  /** True while calls come or wait: a call in the last minute, or one waiting or running now. */
  const busy = (): boolean => {
    const now = Date.now();
    for (const r of routes.values()) if (!r.queue.idle() || now - (r.lastInvocation ?? 0) < ACTIVE_WINDOW_MS) return true;
    return false;
  };
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      await refreshNow();
      if (stopped) break;
      await new Promise<void>((r) => {
        const timer = setTimeout(r, listingPeriod());
        wake = () => { clearTimeout(timer); r(); };
      });
    }
  })();

  /** The listing period now: cold (a call waits with no ready instance), busy or idle. */
  const listingPeriod = (): number => {
    if (waitingCold()) return opts.coldRefreshMs ?? COLD_REFRESH_MS;
    return busy() ? (opts.refreshMs ?? 250) : (opts.idleRefreshMs ?? opts.refreshMs ?? IDLE_REFRESH_MS);
  };
  /** True while a call waits for a function that has no instance to go to. */
  const waitingCold = (): boolean => [...routes.values()].some((r) => r.queue.queued > 0 && r.queue.instanceCount === 0);
  /** A call began to wait: with no instance to go to, the listing loop goes to the cold period at once. */
  const onColdWait = (r: Route): void => {
    if (r.queue.instanceCount === 0) wake?.();
  };

  const report = (): void => {
    const list: FunctionLoad[] = [];
    const pending = worker?.pending ?? new Map<string, number>();
    for (const r of routes.values()) {
      const key = `${r.fn.metadata.namespace ?? 'default'}/${r.fn.metadata.name}`;
      if (!functions.has(key) && r.queue.idle()) continue;
      const [namespace, name] = [r.fn.metadata.namespace ?? 'default', r.fn.metadata.name];
      gatewayQueueDepth.set({ namespace, function: name }, r.queue.queued);
      const waiting = pending.get(key) ?? 0;
      list.push({
        namespace, name, inFlight: r.queue.inFlight, queued: r.queue.queued, pods: r.queue.perPod(),
        ...(waiting > 0 ? { asyncPending: waiting } : {}),
        ...(r.lastInvocation ? { lastInvocation: new Date(r.lastInvocation).toISOString() } : {}),
        ...(r.recycle.size > 0 ? { recycle: [...r.recycle] } : {}),
      });
    }
    // Functions with async calls in the stream that no call reached here yet.
    for (const [key, waiting] of pending) {
      if (routes.has(key) || waiting === 0 || !functions.has(key)) continue;
      const [namespace, name] = key.split('/');
      list.push({ namespace, name, inFlight: 0, queued: 0, pods: {}, asyncPending: waiting });
    }
    const stats: GatewayStats = { gateway: id, at: Date.now(), url, ...(viewAt !== undefined ? { viewAt } : {}), functions: list };
    try { opts.bus.nc.publish(functionStatsSubject(id), encode(stats)); } catch { /* closed: stopping */ }
  };

  /** Sends one call to one instance; rejects with the socket error when it failed. */
  const send = (inst: Instance, body: string, timeoutMs: number): Promise<{ status: number; text: string } | 'timeout'> => new Promise((resolve, reject) => {
    let written = false;
    const req = http.request({
      host: inst.ip, port: instancePort, path: '/run', method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxResult) {
          // Never buffered past the limit: the connection goes, the call fails.
          clearTimeout(timer);
          reject(new ResultTooLargeError(maxResult));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => { clearTimeout(timer); resolve({ status: res.statusCode ?? 502, text: Buffer.concat(chunks).toString('utf8') }); });
      res.on('error', (e) => { clearTimeout(timer); reject(Object.assign(e, { written: true })); });
    });
    const timer = setTimeout(() => { req.destroy(); resolve('timeout'); }, Math.max(1, timeoutMs));
    req.on('finish', () => { written = true; });
    req.on('error', (e) => { clearTimeout(timer); reject(Object.assign(e, { written })); });
    req.end(body);
  });

  /** The function a call names, or the answer that refuses the call (404, 413, 400, 503). */
  const validate = async (namespace: string, name: string, body: string, arrived: number): Promise<FunctionObject | InvokeReply & { retryAfter?: number }> => {
    const key = `${namespace}/${name}`;
    if (stopped) return { ...fail(503, 'the gateway is stopping; retry'), retryAfter: 1 };
    // An unknown function may be new; an idle gateway's view may be up to idleRefreshMs old (an
    // instance marked draining meanwhile): either way, a listing begun after the call comes first.
    if (!functions.has(key) || !busy()) {
      // A known function's stale view is safe (a draining instance goes only once every gateway's view knows).
      if (!await listedSince(arrived, functions.has(key) ? KNOWN_LIST_WAIT_MS : LIST_WAIT_MS) && !functions.has(key)) {
        return { ...fail(503, 'the gateway cannot list functions now (the control plane does not answer); retry'), retryAfter: 1 };
      }
    }
    const fn = functions.get(key);
    if (!fn) return fail(404, `function "${name}" not found in namespace "${namespace}"`);
    if (Buffer.byteLength(body) > MAX_INVOKE_BODY_BYTES) {
      return fail(413, `the request body is ${Buffer.byteLength(body)} bytes, over the limit of ${MAX_INVOKE_BODY_BYTES} bytes (6 MiB)`);
    }
    if (body.trim() !== '') {
      try { JSON.parse(body); } catch (err) { return fail(400, `the body is not valid JSON: ${(err as Error).message}`); }
    }
    return fn;
  };

  const invoke = async (namespace: string, name: string, body: string, arrived: number): Promise<InvokeReply & { retryAfter?: number }> => {
    const key = `${namespace}/${name}`;
    const checked = await validate(namespace, name, body, arrived);
    if (!('metadata' in checked)) return checked;
    // stop() may have run meanwhile and failed the queues: a call queued now would wait for nothing.
    if (stopped) return { ...fail(503, 'the gateway is stopping; retry'), retryAfter: 1 };
    const fn = checked;
    let route = routes.get(key);
    if (!route) {
      route = { fn, queue: new CallQueue(fn.spec.concurrency ?? 1, bound), recycle: new Set(), lastDemand: 0, codes: new Set() };
      routes.set(key, route);
      void refreshNow();
    }
    const r = route;
    r.lastInvocation = Date.now();
    const timeoutMs = (fn.spec.timeoutSeconds ?? 60) * 1000;
    const deadline = Date.now() + timeoutMs;
    const demand = (): void => {
      onColdWait(r);
      const now = Date.now();
      if (now - r.lastDemand < 100) return;
      r.lastDemand = now;
      const d: FunctionDemand = { gateway: id, namespace, name, inFlight: r.queue.inFlight, queued: r.queue.queued };
      try { opts.bus.nc.publish(functionDemandSubject(namespace, name), encode(d)); } catch { /* closed: stopping */ }
    };
    const tried = new Set<string>();
    for (;;) {
      let slot: Slot;
      try {
        slot = await r.queue.acquire(deadline - Date.now(), tried, demand);
      } catch (err) {
        if (err instanceof QueueFullError) return { ...fail(503, err.message), retryAfter: 1 };
        if (err instanceof DeadlineError) return { ...fail(504, `function "${name}" did not answer within ${fn.spec.timeoutSeconds ?? 60}s (no instance became free)`), reached: false };
        if (err instanceof StoppingError) return { ...fail(503, err.message), retryAfter: 1 };
        return fail(404, `function "${name}" not found in namespace "${namespace}"`);
      }
      try {
        // The instance has the whole timeout to answer, however long the call waited for it: only
        // an instance that held a call that long is at fault (and recycled).
        const res = await send(slot.instance, body.trim() === '' ? 'null' : body, timeoutMs);
        if (res === 'timeout') {
          // No new call goes to it here, at once; the controller drains and replaces it.
          r.recycle.add(slot.instance.pod);
          r.queue.quarantine(slot.instance.pod);
          log({ function: key, pod: slot.instance.pod }, 'an instance held a call past the timeout; it is recycled');
          return fail(504, `function "${name}" did not answer within ${fn.spec.timeoutSeconds ?? 60}s`);
        }
        let parsed: unknown;
        try { parsed = res.text === '' ? null : JSON.parse(res.text); } catch { parsed = { error: res.text }; }
        return { status: res.status, body: parsed };
      } catch (err) {
        if (err instanceof ResultTooLargeError) return fail(502, `function "${name}": ${err.message}`);
        const e = err as NodeJS.ErrnoException & { written?: boolean };
        if (notSent(e, e.written ?? false)) {
          tried.add(slot.instance.pod);
          log({ function: key, pod: slot.instance.pod, err: e.message }, 'instance refused the call before it was sent; trying another');
          continue;
        }
        return fail(502, `instance ${slot.instance.pod} failed: ${e.message}`);
      } finally {
        slot.release();
        r.lastInvocation = Date.now();
      }
    }
  };

  const measured = async (namespace: string, name: string, body: string): Promise<InvokeReply & { retryAfter?: number }> => {
    const started = performance.now();
    active++;
    try {
      const out = await invoke(namespace, name, body, started).catch((err: unknown): InvokeReply => {
        log({ err, function: `${namespace}/${name}` }, 'a call failed unexpectedly');
        return fail(500, `the gateway failed: ${(err as Error).message}`);
      });
      const route = routes.get(`${namespace}/${name}`);
      const fnLabel = route ? name : UNKNOWN_FUNCTION_LABEL;
      const code = String(out.status);
      route?.codes.add(code);
      gatewayRequests.inc({ namespace, function: fnLabel, code });
      gatewayLatency.observe({ namespace, function: fnLabel }, (performance.now() - started) / 1000);
      return out;
    } finally {
      if (--active === 0) onIdle?.();
    }
  };

  let worker: AsyncWorker | undefined;
  /** Queues an async call after the same checks as a sync one; counted under code 202 (or its error). */
  const invokeAsync = async (namespace: string, name: string, body: string, o: { id?: string; callback?: string; retry?: boolean } = {}): Promise<InvokeReply & { retryAfter?: number }> => {
    active++;
    try {
      const out = await (async (): Promise<InvokeReply & { retryAfter?: number }> => {
        if (!worker) return fail(501, 'async calls are off in this gateway');
        const idError = checkAsyncId(o.id) ?? checkCallbackUrl(o.callback);
        if (idError) return fail(400, idError);
        const checked = await validate(namespace, name, body, performance.now());
        if (!('metadata' in checked)) return checked;
        // A job is one message on the bus: its body must fit the server's max_payload with its headers.
        const limit = Math.min(MAX_INVOKE_BODY_BYTES, (maxPayload ?? DEFAULT_MAX_RESULT_BYTES + REPLY_ENVELOPE_BYTES) - ASYNC_ENVELOPE_BYTES);
        if (Buffer.byteLength(body) > limit) {
          return fail(413, `the request body is ${Buffer.byteLength(body)} bytes, over the limit of ${limit} bytes for an async call (the bus's max_payload less ${ASYNC_ENVELOPE_BYTES})`);
        }
        return worker.submit(namespace, name, body.trim() === '' ? 'null' : body, o);
      })().catch((err: unknown): InvokeReply & { retryAfter?: number } => {
        log({ err, function: `${namespace}/${name}` }, 'queueing an async call failed');
        return { ...fail(503, `the call could not be queued: ${(err as Error).message}`), retryAfter: 1 };
      });
      const route = routes.get(`${namespace}/${name}`);
      const code = String(out.status);
      route?.codes.add(code);
      gatewayRequests.inc({ namespace, function: route || out.status === 202 ? name : UNKNOWN_FUNCTION_LABEL, code });
      return out;
    } finally {
      if (--active === 0) onIdle?.();
    }
  };
  /** Answers a request about async calls (results, dead letters) with `fn`, or a 501/500 envelope. */
  const asyncQuery = async (fn: (w: AsyncWorker) => Promise<InvokeReply>): Promise<InvokeReply> => {
    if (!worker) return fail(501, 'async calls are off in this gateway');
    return fn(worker).catch((err: unknown): InvokeReply => {
      log({ err }, 'an async call request failed');
      return fail(503, `the async call store failed: ${(err as Error).message}`);
    });
  };

  const server = http.createServer((req, res) => {
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      if (res.headersSent || res.destroyed) return;
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    const route = parseRoute(req.url ?? '/');
    if ('error' in route) { answer(400, { error: route.error }); return; }
    if (req.method === 'GET' && route.path === '/metrics') {
      register.metrics()
        .then((m) => { res.writeHead(200, { 'content-type': register.contentType }); res.end(m); })
        .catch((err: unknown) => { log({ err }, 'metrics failed'); answer(500, { error: 'metrics failed' }); });
      return;
    }
    if (req.method === 'GET' && route.path === '/healthz') { answer(200, { ok: true }); return; }
    if (route.resultId !== undefined) {
      if (req.method !== 'GET') { answer(405, { error: 'use GET' }, { allow: 'GET' }); return; }
      void asyncQuery((w) => w.result(route.resultId!)).then((out) => answer(out.status, out.body));
      return;
    }
    const hook = route.fn ? undefined : hooks.get(route.path);
    if (!route.fn && !hook) { answer(404, { error: `no route ${route.path}: call POST /function/<namespace>/<name>` }); return; }
    if (hook && !hook.methods.includes(req.method ?? '')) {
      answer(405, { error: `use ${hook.methods.join(' or ')}` }, { allow: hook.methods.join(', ') });
      return;
    }
    if (!hook && req.method !== 'POST') { answer(405, { error: 'use POST' }, { allow: 'POST' }); return; }
    const { namespace: ns, name } = route.fn ?? { namespace: '', name: '' };
    const mode = hook ? { async: false as const } : parseAsyncRequest(new URLSearchParams(route.search ?? ''), req.headers);
    if ('error' in mode) { answer(400, { error: mode.error }); return; }
    const tooLarge = (size: number | string): void => {
      // Answered at once and never kept. What the client still sends is read and dropped for a
      // moment before the connection goes: closed at once, the kernel would answer it with a
      // reset, which can reach the client before it has read the 413.
      answer(413, { error: `the request body is ${size} bytes, over the limit of ${MAX_INVOKE_BODY_BYTES} bytes (6 MiB)` }, { connection: 'close' });
      res.once('finish', () => {
        const timer = setTimeout(() => req.destroy(), DRAIN_AFTER_413_MS);
        timer.unref();
        req.once('end', () => clearTimeout(timer));
        req.resume();
      });
    };
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_INVOKE_BODY_BYTES) { tooLarge(declared); return; }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > MAX_INVOKE_BODY_BYTES) {
        over = true;
        chunks.length = 0;
        tooLarge(`over ${MAX_INVOKE_BODY_BYTES}`);
        return;
      }
      chunks.push(c);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (over) return;
      if (hook) {
        active++;
        publishHttpFiring((triggerJs ??= jetstream(opts.bus.nc, { checkAPI: false })), hook, { method: req.method ?? '', path: route.path, headers: req.headers }, Buffer.concat(chunks))
          .then((id) => answer(202, { id, trigger: `${hook.namespace}/${hook.name}` }))
          .catch((err: unknown) => {
            log({ err: (err as Error).message, trigger: `${hook.namespace}/${hook.name}` }, 'an HTTP firing could not be published');
            answer(503, { error: `the firing could not be recorded: ${(err as Error).message}` }, { 'retry-after': '1' });
          })
          .finally(() => { if (--active === 0) onIdle?.(); });
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8');
      (mode.async ? invokeAsync(ns, name, text, { id: mode.id, callback: mode.callback }) : measured(ns, name, text))
        .then((out) => {
          const id = out.status === 202 ? (out.body as { id?: string }).id : undefined;
          answer(out.status, out.body, {
            ...(out.retryAfter ? { 'retry-after': String(out.retryAfter) } : {}),
            ...(id ? { location: `/function-results/${id}` } : {}),
          });
        })
        .catch((err: unknown) => { log({ err }, 'answering a call failed'); answer(500, { error: 'the gateway failed' }); });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${opts.host ?? '127.0.0.1'}:${addr.port}`;

  /** Replies with `out`; a reply the server refuses (over max_payload) becomes a small error envelope, so the caller never waits for nothing. */
  const respondSafely = (msg: Msg, out: InvokeReply): void => {
    try {
      msg.respond(encode({ status: out.status, body: out.body }));
    } catch (err) {
      log({ err, subject: msg.subject }, 'a reply could not be sent');
      try { msg.respond(encode(fail(502, `the reply could not be sent: ${(err as Error).message}`))); } catch { /* closed: stopping */ }
    }
  };
  const sub: Subscription = opts.bus.nc.subscribe(FUNCTION_INVOKE_WILDCARD, {
    queue: FUNCTION_INVOKE_QUEUE,
    callback: (_err, msg) => {
      const tokens = msg.subject.split('.');
      if (tokens.length !== 5) { msg.respond(encode(fail(400, `bad subject ${msg.subject}: use mk.fn.invoke.<namespace>.<name>`))); return; }
      const [ns, name] = [decodeToken(tokens[3]), decodeToken(tokens[4])];
      const text = Buffer.from(msg.data).toString('utf8');
      measured(ns, name, text)
        .then((out) => respondSafely(msg, out))
        .catch((err: unknown) => { log({ err }, 'answering a call failed'); respondSafely(msg, fail(500, 'the gateway failed')); });
    },
  });
  /** Serves one request subject of the async face in the gateways' queue group. */
  const serve = (subject: string, answerWith: (msg: Msg) => Promise<InvokeReply>): Subscription => opts.bus.nc.subscribe(subject, {
    queue: FUNCTION_INVOKE_QUEUE,
    callback: (_err, msg) => {
      answerWith(msg)
        .then((out) => respondSafely(msg, out))
        .catch((err: unknown) => { log({ err }, 'answering an async request failed'); respondSafely(msg, fail(500, 'the gateway failed')); });
    },
  });
  /** The JSON object a request carries, or undefined when it is not one. */
  const requestObject = (msg: Msg): Record<string, unknown> | undefined => {
    try {
      const v = JSON.parse(Buffer.from(msg.data).toString('utf8')) as unknown;
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : undefined;
    } catch {
      return undefined;
    }
  };
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const asyncSubs: Subscription[] = [];
  if (opts.async !== false) {
    worker = await startAsyncWorker({
      nc: opts.bus.nc, log, ...opts.async,
      invoke: (namespace, name, body) => measured(namespace, name, body),
    });
    asyncSubs.push(
      serve(ASYNC_INVOKE_WILDCARD, async (msg) => {
        const tokens = msg.subject.split('.');
        if (tokens.length !== 5) return fail(400, `bad subject ${msg.subject}: use mk.fn.async-invoke.<namespace>.<name>`);
        const req = requestObject(msg) as Partial<AsyncSubmit> | undefined;
        if (!req || (req.body !== undefined && typeof req.body !== 'string')) {
          return fail(400, 'the request must be a JSON object { "body": "<the event as JSON text>", "id"?: "...", "callback"?: "http://..." }');
        }
        if (req.retry !== undefined && typeof req.retry !== 'boolean') return fail(400, '"retry" must be a boolean');
        return invokeAsync(decodeToken(tokens[3]), decodeToken(tokens[4]), req.body ?? '', {
          id: str(req.id), callback: str(req.callback), ...(req.retry === false ? { retry: false } : {}),
        });
      }),
      serve(RESULTS_GET_SUBJECT, (msg) => {
        const id = str(requestObject(msg)?.id);
        return id ? asyncQuery((w) => w.result(id)) : Promise.resolve(fail(400, 'the request must be { "id": "<call id>" }'));
      }),
      serve(DLQ_LIST_SUBJECT, (msg) => {
        const req = requestObject(msg) ?? {};
        return asyncQuery((w) => w.deadLetters({ namespace: str(req.namespace), name: str(req.name) }));
      }),
      serve(DLQ_REPLAY_SUBJECT, (msg) => {
        const id = str(requestObject(msg)?.id);
        return id ? asyncQuery((w) => w.replay(id)) : Promise.resolve(fail(400, 'the request must be { "id": "<call id>" }'));
      }),
    );
  }
  await opts.bus.nc.flush();
  await refreshNow();
  const reporter = setInterval(() => {
    if (!worker) { report(); return; }
    // The stream's count first, so a function at zero with only queued async calls is reported.
    worker.refreshPending().catch((err: unknown) => log({ err: (err as Error).message }, 'reading the async queue failed')).finally(report);
  }, opts.reportMs ?? 1000);

  return {
    id, url, invoke: measured, invokeAsync,
    async stop() {
      if (stopped) return;
      // No new call (HTTP or NATS); queued calls are answered 503; calls on an instance finish
      // up to the grace period; then every connection closes. Async jobs waiting here go back to the stream.
      stopped = true;
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      sub.unsubscribe();
      for (const s of asyncSubs) s.unsubscribe();
      const workerDone = worker?.stop();
      for (const r of routes.values()) r.queue.failAll(new StoppingError());
      if (active > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, opts.stopGraceMs ?? 10_000);
          onIdle = () => { clearTimeout(timer); resolve(); };
        });
      }
      await workerDone;
      clearInterval(reporter);
      wake?.();
      server.closeAllConnections();
      await closed;
      agent.destroy();
      busStatus.stop?.();
      await loop;
    },
  };
}

/** Answered to calls still queued when the gateway stops: 503, retry (another gateway takes it). */
class StoppingError extends Error {
  override readonly name = 'StoppingError';
  constructor() { super('the gateway is stopping; retry'); }
}

/** What a request's path names: `/metrics` and the like, or a function; an error for a path that does not parse. */
export type ParsedRoute = { path: string; search?: string; fn?: { namespace: string; name: string }; resultId?: string } | { error: string };

/** Parses a request target; never throws (a malformed URL or escape is an error to answer 400 with). */
export function parseRoute(target: string): ParsedRoute {
  let pathname: string;
  let query: { search?: string };
  try {
    const u = new URL(target, 'http://gateway');
    pathname = u.pathname;
    // Only when there is one, so that a plain route is just its path.
    query = u.search ? { search: u.search } : {};
  } catch {
    return { error: `malformed request target ${JSON.stringify(target.slice(0, 200))}` };
  }
  const result = /^\/function-results\/([^/]+)\/?$/.exec(pathname);
  if (result) return { path: pathname, ...query, resultId: result[1] };
  const m = /^\/function\/([^/]+)\/([^/]+)\/?$/.exec(pathname);
  if (!m) return { path: pathname, ...query };
  try {
    return { path: pathname, ...query, fn: { namespace: decodeURIComponent(m[1]), name: decodeURIComponent(m[2]) } };
  } catch {
    return { error: `malformed escape in ${JSON.stringify(pathname.slice(0, 200))}` };
  }
}

/** Reads an InvokeReply (for clients of the NATS face). */
export function decodeInvokeReply(data: Uint8Array): InvokeReply {
  return decode<InvokeReply>(data);
}
