/**
 * The function gateway: takes calls over HTTP (`POST /function/<ns>/<name>`) and NATS
 * (request/reply on `mk.fn.invoke.<ns>.<name>`, in a queue group), queues each until an instance
 * of the function has a free slot, sends it to that instance's loader (`POST /run`) and answers
 * with the loader's answer. It reads functions and their instance pods through the api's list
 * (no store access), and reports its load to the function controller every second and at once
 * when a call waits with no free slot, so the controller scales from zero.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Subscription } from '@nats-io/transport-node';
import { decode, encode, request, type CoreBus } from '../../bus/core-client';
import { register } from '../../common/metrics';
import {
  API, DEFAULT_QUEUE_BOUND, DRAINING_ANNOTATION, FUNCTION_INVOKE_QUEUE, FUNCTION_INVOKE_WILDCARD, FUNCTION_LABEL, FUNCTION_PORT,
  functionDemandSubject, functionStatsSubject, MAX_INVOKE_BODY_BYTES,
  type FunctionDemand, type FunctionLoad, type FunctionObject, type GatewayStats, type InvokeReply, type ListResult, type Pod,
} from '../../messages';
import { decodeToken } from '../../messages/names';
import { gatewayLatency, gatewayQueueDepth, gatewayRequests } from './metrics';
import { CallQueue, DeadlineError, QueueFullError, type Instance, type Slot } from './queue';

/** How the gateway is set up. */
export interface GatewayOptions {
  bus: CoreBus;
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** How often functions and pods are listed again (ms, default 250). */
  refreshMs?: number;
  /** How often load is reported (ms, default 1000). */
  reportMs?: number;
  queueBound?: number;
  log?: (fields: object, msg: string) => void;
}

/** A running gateway. */
export interface Gateway {
  id: string;
  /** `http://<host>:<port>` */
  url: string;
  /** Calls `<ns>/<name>` with the JSON text `body` (what both faces do). */
  invoke(namespace: string, name: string, body: string): Promise<InvokeReply & { retryAfter?: number }>;
  stop(): Promise<void>;
}

/** Per function: its queue and what the controller is told. */
interface Route {
  fn: FunctionObject;
  queue: CallQueue;
  lastInvocation?: number;
  recycle: Set<string>;
  lastDemand: number;
}

const fail = (status: number, error: string): InvokeReply => ({ status, body: { error } });

/** True when the request never reached the instance (connection refused or reset before it was written). */
function notSent(err: NodeJS.ErrnoException, written: boolean): boolean {
  return err.code === 'ECONNREFUSED' || err.code === 'EHOSTUNREACH' || (!written && (err.code === 'ECONNRESET' || err.code === 'EPIPE'));
}

/** Starts the gateway: lists functions and pods, listens on HTTP, serves the invoke subject. */
export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const id = `gw-${randomUUID().slice(0, 8)}`;
  const log = opts.log ?? (() => undefined);
  const bound = opts.queueBound ?? DEFAULT_QUEUE_BOUND;
  const routes = new Map<string, Route>();
  const functions = new Map<string, FunctionObject>();
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  let stopped = false;

  const refresh = async (): Promise<void> => {
    const [fns, pods] = await Promise.all([
      request<ListResult>(opts.bus, API.list, { kind: 'functions' }),
      request<ListResult>(opts.bus, API.list, { kind: 'pods', labelSelector: FUNCTION_LABEL }),
    ]);
    functions.clear();
    for (const o of fns.items as unknown as FunctionObject[]) functions.set(`${o.metadata.namespace ?? 'default'}/${o.metadata.name}`, o);
    const byFn = new Map<string, Instance[]>();
    for (const p of pods.items as unknown as Pod[]) {
      const key = `${p.metadata.namespace ?? 'default'}/${p.metadata.labels?.[FUNCTION_LABEL] ?? ''}`;
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
      const fn = functions.get(key);
      if (!fn) {
        r.queue.failAll(new Error('gone'));
        r.queue.setInstances([], 1);
        continue;
      }
      r.fn = fn;
      r.queue.setInstances(byFn.get(key) ?? [], fn.spec.concurrency ?? 1);
    }
  };

  let refreshing: Promise<void> | undefined;
  const refreshNow = (): Promise<void> => {
    refreshing ??= refresh().catch((err: unknown) => log({ err }, 'listing functions failed')).finally(() => { refreshing = undefined; });
    return refreshing;
  };
  const loop = (async () => {
    while (!stopped) {
      await refreshNow();
      await new Promise((r) => setTimeout(r, opts.refreshMs ?? 250));
    }
  })();

  const report = (): void => {
    const list: FunctionLoad[] = [];
    for (const r of routes.values()) {
      const [namespace, name] = [r.fn.metadata.namespace ?? 'default', r.fn.metadata.name];
      gatewayQueueDepth.set({ namespace, function: name }, r.queue.queued);
      list.push({
        namespace, name, inFlight: r.queue.inFlight, queued: r.queue.queued, pods: r.queue.perPod(),
        ...(r.lastInvocation ? { lastInvocation: new Date(r.lastInvocation).toISOString() } : {}),
        ...(r.recycle.size > 0 ? { recycle: [...r.recycle] } : {}),
      });
    }
    const stats: GatewayStats = { gateway: id, at: Date.now(), url, functions: list };
    try { opts.bus.nc.publish(functionStatsSubject(id), encode(stats)); } catch { /* closed: stopping */ }
  };

  /** Sends one call to one instance; rejects with the socket error when it failed. */
  const send = (inst: Instance, body: string, timeoutMs: number): Promise<{ status: number; text: string } | 'timeout'> => new Promise((resolve, reject) => {
    let written = false;
    const req = http.request({
      host: inst.ip, port: FUNCTION_PORT, path: '/run', method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { clearTimeout(timer); resolve({ status: res.statusCode ?? 502, text: Buffer.concat(chunks).toString('utf8') }); });
      res.on('error', (e) => { clearTimeout(timer); reject(Object.assign(e, { written: true })); });
    });
    const timer = setTimeout(() => { req.destroy(); resolve('timeout'); }, Math.max(1, timeoutMs));
    req.on('finish', () => { written = true; });
    req.on('error', (e) => { clearTimeout(timer); reject(Object.assign(e, { written })); });
    req.end(body);
  });

  const invoke = async (namespace: string, name: string, body: string): Promise<InvokeReply & { retryAfter?: number }> => {
    const key = `${namespace}/${name}`;
    if (!functions.has(key)) await refreshNow();
    const fn = functions.get(key);
    if (!fn) return fail(404, `function "${name}" not found in namespace "${namespace}"`);
    if (Buffer.byteLength(body) > MAX_INVOKE_BODY_BYTES) {
      return fail(413, `the request body is ${Buffer.byteLength(body)} bytes, over the limit of ${MAX_INVOKE_BODY_BYTES} bytes (6 MiB)`);
    }
    if (body.trim() !== '') {
      try { JSON.parse(body); } catch (err) { return fail(400, `the body is not valid JSON: ${(err as Error).message}`); }
    }
    let route = routes.get(key);
    if (!route) {
      route = { fn, queue: new CallQueue(fn.spec.concurrency ?? 1, bound), recycle: new Set(), lastDemand: 0 };
      routes.set(key, route);
      void refreshNow();
    }
    const r = route;
    r.lastInvocation = Date.now();
    const timeoutMs = (fn.spec.timeoutSeconds ?? 60) * 1000;
    const deadline = Date.now() + timeoutMs;
    const demand = (): void => {
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
        if (err instanceof DeadlineError) return fail(504, `function "${name}" did not answer within ${fn.spec.timeoutSeconds ?? 60}s (no instance became free)`);
        return fail(404, `function "${name}" not found in namespace "${namespace}"`);
      }
      try {
        // The instance has the whole timeout to answer, however long the call waited for it: only
        // an instance that held a call that long is at fault (and recycled).
        const res = await send(slot.instance, body.trim() === '' ? 'null' : body, timeoutMs);
        if (res === 'timeout') {
          r.recycle.add(slot.instance.pod);
          log({ function: key, pod: slot.instance.pod }, 'an instance held a call past the timeout; it is recycled');
          return fail(504, `function "${name}" did not answer within ${fn.spec.timeoutSeconds ?? 60}s`);
        }
        let parsed: unknown;
        try { parsed = res.text === '' ? null : JSON.parse(res.text); } catch { parsed = { error: res.text }; }
        return { status: res.status, body: parsed };
      } catch (err) {
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
    const out = await invoke(namespace, name, body);
    gatewayRequests.inc({ namespace, function: name, code: String(out.status) });
    gatewayLatency.observe({ namespace, function: name }, (performance.now() - started) / 1000);
    return out;
  };

  const server = http.createServer((req, res) => {
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (req.method === 'GET' && url.pathname === '/metrics') {
      void register.metrics().then((m) => { res.writeHead(200, { 'content-type': register.contentType }); res.end(m); });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/healthz') { answer(200, { ok: true }); return; }
    const m = /^\/function\/([^/]+)\/([^/]+)\/?$/.exec(url.pathname);
    if (!m) { answer(404, { error: `no route ${url.pathname}: call POST /function/<namespace>/<name>` }); return; }
    if (req.method !== 'POST') { answer(405, { error: 'use POST' }, { allow: 'POST' }); return; }
    const [ns, name] = [decodeURIComponent(m[1]), decodeURIComponent(m[2])];
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_INVOKE_BODY_BYTES) over = true; else chunks.push(c);
    });
    req.on('end', () => {
      const text = over ? ' '.repeat(MAX_INVOKE_BODY_BYTES + 1) : Buffer.concat(chunks).toString('utf8');
      void measured(ns, name, text).then((out) => answer(out.status, out.body, out.retryAfter ? { 'retry-after': String(out.retryAfter) } : {}));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${opts.host ?? '127.0.0.1'}:${addr.port}`;

  const sub: Subscription = opts.bus.nc.subscribe(FUNCTION_INVOKE_WILDCARD, {
    queue: FUNCTION_INVOKE_QUEUE,
    callback: (_err, msg) => {
      const tokens = msg.subject.split('.');
      if (tokens.length !== 5) { msg.respond(encode(fail(400, `bad subject ${msg.subject}: use mk.fn.invoke.<namespace>.<name>`))); return; }
      const [ns, name] = [decodeToken(tokens[3]), decodeToken(tokens[4])];
      const text = Buffer.from(msg.data).toString('utf8');
      void measured(ns, name, text).then((out) => { try { msg.respond(encode({ status: out.status, body: out.body })); } catch { /* closed */ } });
    },
  });
  await opts.bus.nc.flush();
  await refreshNow();
  const reporter = setInterval(report, opts.reportMs ?? 1000);

  return {
    id, url, invoke: measured,
    async stop() {
      stopped = true;
      clearInterval(reporter);
      sub.unsubscribe();
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
      agent.destroy();
      await loop;
    },
  };
}

/** Reads an InvokeReply (for clients of the NATS face). */
export function decodeInvokeReply(data: Uint8Array): InvokeReply {
  return decode<InvokeReply>(data);
}
