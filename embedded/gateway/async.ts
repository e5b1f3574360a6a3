/**
 * Async calls in a gateway: queues them in the work-queue stream (deduplicated by id), takes jobs
 * from the shared consumer (never more than it has room for), runs each through the gateway's own
 * call path (so it counts in the load the function scales on), stores the outcome in the results
 * bucket, retries failures with backoff, gives up to the dead letters after the last try, and
 * POSTs the final result to the call's callback.
 *
 * Exactly one recorded completion per id: the final result is written before the job is acked,
 * and a job whose id already has a final result is acked without running again; one delivered
 * again while this gateway still runs it waits for that run's result. A gateway killed while a
 * handler runs means that try runs again elsewhere (at-least-once execution).
 */
import { randomUUID } from 'node:crypto';
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import type { JsMsg } from '@nats-io/jetstream';
import { openAsyncQueue, type AsyncQueue } from '../../bus/function-async';
import { jsApiCode, JsApiCodes } from '../../bus/errors';
import {
  ASYNC_ACK_WAIT_MS, ASYNC_HEADERS, ASYNC_HEARTBEAT_MS, ASYNC_ID, ASYNC_JOB_WILDCARD, ASYNC_MAX_ATTEMPTS, ASYNC_RETRY_BACKOFF_MS, ASYNC_STREAM,
  asyncJobSubject, DLQ_STREAM, DLQ_WILDCARD, dlqSubject, JOB_HEADER,
  type AsyncJob, type AsyncResult, type DeadLetter,
} from '../../messages/function-async';
import type { InvokeReply } from '../../messages';
import { decodeToken } from '../../messages/names';
import { afterTry, afterTryOnce } from './async-policy';
import { asyncJobs, asyncPending } from './metrics';

/** How a gateway's async part is set up. */
export interface AsyncOptions {
  nc: NatsConnection;
  /** Runs one call through the gateway's queue (the sync path). */
  invoke(namespace: string, name: string, body: string): Promise<InvokeReply>;
  /** Jobs this gateway works on at once, at most (default 32). */
  maxInFlight?: number;
  /** Tries per job (default ASYNC_MAX_ATTEMPTS). */
  maxAttempts?: number;
  /** Waits before retries (default ASYNC_RETRY_BACKOFF_MS). */
  backoffMs?: readonly number[];
  /** How long a callback POST may take per try (ms, default 5000). */
  callbackTimeoutMs?: number;
  log: (fields: object, msg: string) => void;
}

/** A gateway's async part. */
export interface AsyncWorker {
  /** Queues a call (already validated) and answers 202 `{ id }`. */
  submit(namespace: string, name: string, body: string, opts: { id?: string; callback?: string; retry?: boolean }): Promise<InvokeReply>;
  /** The stored result of `id`: 200 with the AsyncResult, or 404. */
  result(id: string): Promise<InvokeReply>;
  /** The dead letters (of one function, or all): 200 `{ items }`. */
  deadLetters(filter: { namespace?: string; name?: string }): Promise<InvokeReply>;
  /** Queues a dead letter again under its id (and removes it from the dead letters): 202 `{ id }`, or 404. */
  replay(id: string): Promise<InvokeReply>;
  /** Jobs waiting or running in the stream, by `<ns>/<name>` (refreshed by refreshPending). */
  pending: Map<string, number>;
  /** Reads the stream's per-function counts into `pending`. */
  refreshPending(): Promise<void>;
  /** Stops pulling; waits for the jobs in hand to finish or be handed back. */
  stop(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
/** The most dead letters one listing returns. */
const MAX_LISTED = 1000;
/** Between pulls while the consumer cannot be reached (not made yet, the bus restarting). */
const PULL_RETRY_MS = 1000;
/** Callback tries and the waits between them. */
const CALLBACK_WAITS_MS = [0, 1000, 3000];

/** A message's data with its JOB_HEADER fields, or undefined when the header is missing or not JSON. */
function readEnvelope<T extends { body: string }>(data: Uint8Array, headers: MsgHdrs | undefined): T | undefined {
  try {
    const meta = JSON.parse(headers?.get(JOB_HEADER) ?? '') as Omit<T, 'body'>;
    return { ...meta, body: dec.decode(data) } as T;
  } catch {
    return undefined;
  }
}
/** The headers carrying `v` less its body. */
function envelopeHeaders<T extends { body: string }>(v: T): MsgHdrs {
  const { body: _body, ...meta } = v;
  const h = natsHeaders();
  h.set(JOB_HEADER, JSON.stringify(meta));
  return h;
}

const isFinal = (r: AsyncResult | undefined): boolean => r?.status === 'Succeeded' || r?.status === 'Failed';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts pulling jobs; see the module comment. */
export async function startAsyncWorker(opts: AsyncOptions): Promise<AsyncWorker> {
  const q: AsyncQueue = await openAsyncQueue(opts.nc);
  const maxInFlight = opts.maxInFlight ?? 32;
  const maxAttempts = opts.maxAttempts ?? ASYNC_MAX_ATTEMPTS;
  const backoff = opts.backoffMs ?? ASYNC_RETRY_BACKOFF_MS;
  const log = opts.log;
  const pending = new Map<string, number>();
  let stopped = false;
  let inHand = 0;
  let roomFreed: (() => void) | undefined;
  const handed = new Set<Promise<void>>();

  const readResult = async (id: string): Promise<AsyncResult | undefined> => {
    const e = await q.results.get(id);
    if (!e || e.operation !== 'PUT' || e.value.length === 0) return undefined;
    return JSON.parse(dec.decode(e.value)) as AsyncResult;
  };
  const writeResult = async (r: AsyncResult): Promise<void> => { await q.results.put(r.id, enc.encode(JSON.stringify(r))); };

  /** POSTs the final result to its callback (a few tries) and records how that went; never throws. */
  const deliverCallback = async (r: AsyncResult): Promise<void> => {
    if (!r.callback || r.callback.status !== 'Pending') return;
    const text = JSON.stringify({ ...r, callback: undefined });
    let error = '';
    let code: number | undefined;
    for (const wait of CALLBACK_WAITS_MS) {
      if (wait > 0) await sleep(wait);
      try {
        const res = await fetch(r.callback.url, {
          method: 'POST', body: text, redirect: 'manual',
          headers: { 'content-type': 'application/json', [ASYNC_HEADERS.invocationId]: r.id },
          signal: AbortSignal.timeout(opts.callbackTimeoutMs ?? 5000),
        });
        await res.arrayBuffer().catch(() => undefined);
        code = res.status;
        if (res.status >= 200 && res.status < 300) { error = ''; break; }
        error = `the callback answered ${res.status}`;
      } catch (err) {
        error = `the callback failed: ${(err as Error).message}`;
      }
    }
    r.callback = { url: r.callback.url, status: error ? 'Failed' : 'Delivered', ...(code !== undefined ? { code } : {}), ...(error ? { error } : {}) };
    if (error) log({ id: r.id, url: r.callback.url, error }, 'an async call\'s callback was not delivered');
    await writeResult(r).catch((err: unknown) => log({ err, id: r.id }, 'recording a callback failed'));
  };

  const finish = async (r: AsyncResult, outcome: string): Promise<void> => {
    r.finished = new Date().toISOString();
    await writeResult(r);
    asyncJobs.inc({ namespace: r.namespace, function: r.name, outcome });
    await deliverCallback(r);
  };

  const deadLetter = async (job: AsyncJob, r: AsyncResult): Promise<void> => {
    const dl: DeadLetter = {
      id: job.id, namespace: job.namespace, name: job.name, body: job.body, created: job.created,
      ...(job.callback ? { callback: job.callback } : {}),
      attempts: r.attempts, lastError: r.error ?? 'failed', failed: new Date().toISOString(),
    };
    // One dead letter per generation of the job, however often this step is repeated.
    await q.js.publish(dlqSubject(job.namespace, job.name), enc.encode(dl.body), { msgID: `${job.id}-dlq-${job.priorAttempts ?? 0}`, headers: envelopeHeaders(dl) });
  };

  /** Works on one delivered job; see the module comment for the order of writes. */
  const work = async (msg: JsMsg): Promise<void> => {
    const job = readEnvelope<AsyncJob>(msg.data, msg.headers);
    if (!job || typeof job.id !== 'string') {
      log({ seq: msg.seq, subject: msg.subject }, `an async job without a valid ${JOB_HEADER} header; dropped`);
      msg.term(`no valid ${JOB_HEADER} header`);
      return;
    }
    const previous = await readResult(job.id);
    if (isFinal(previous)) {
      // Run to its end before (the ack was lost, or a duplicate past the dedup window): only the callback may be owed.
      await deliverCallback(previous!);
      asyncJobs.inc({ namespace: job.namespace, function: job.name, outcome: 'duplicate' });
      msg.ack();
      return;
    }
    const delivery = msg.info.deliveryCount;
    const r: AsyncResult = {
      id: job.id, namespace: job.namespace, name: job.name, status: 'Running',
      attempts: (job.priorAttempts ?? 0) + delivery, created: job.created,
      ...(previous?.error ? { error: previous.error, code: previous.code } : {}),
      ...(job.callback ? { callback: { url: job.callback, status: 'Pending' as const } } : {}),
    };
    if (delivery > maxAttempts) {
      // The last try failed but its gateway died before it dead-lettered the job.
      await deadLetter(job, r);
      r.status = 'Failed';
      r.attempts = (job.priorAttempts ?? 0) + maxAttempts;
      await finish(r, 'deadlettered');
      msg.term('failed every try');
      return;
    }
    await writeResult(r);
    const heartbeat = setInterval(() => {
      // A closed connection throws: the job then comes back after the ack wait, as for a killed gateway.
      try { msg.working(); } catch { /* closed */ }
    }, ASYNC_HEARTBEAT_MS);
    let out: InvokeReply;
    try {
      out = await opts.invoke(job.namespace, job.name, job.body);
    } finally {
      clearInterval(heartbeat);
    }
    if (stopped && out.status === 503) {
      // This gateway is stopping: another takes the job at once (the try did not run).
      msg.nak();
      return;
    }
    // A job that may not be retried takes the function's first answer as final, a failure included.
    const decision = job.retry === false
      ? afterTryOnce(out.status, delivery, maxAttempts, backoff, out.reached !== false)
      : afterTry(out.status, delivery, maxAttempts, backoff);
    r.code = out.status;
    if (decision.kind === 'succeeded') {
      r.status = 'Succeeded';
      r.result = out.body;
      delete r.error;
      await finish(r, 'succeeded');
      msg.ack();
      return;
    }
    const body = out.body as { error?: unknown } | null;
    r.error = typeof body?.error === 'string' ? body.error : JSON.stringify(out.body);
    if (decision.kind === 'failed') {
      r.status = 'Failed';
      r.result = out.body;
      await finish(r, 'failed');
      msg.ack();
    } else if (decision.kind === 'retry') {
      await writeResult(r);
      asyncJobs.inc({ namespace: job.namespace, function: job.name, outcome: 'retried' });
      msg.nak(decision.delayMs);
    } else {
      await deadLetter(job, r);
      r.status = 'Failed';
      await finish(r, 'deadlettered');
      msg.term('failed every try');
    }
  };

  /** Ids of the jobs this gateway is running now. */
  const running = new Set<string>();

  const handle = (msg: JsMsg): void => {
    const id = readEnvelope<AsyncJob>(msg.data, msg.headers)?.id;
    if (typeof id === 'string' && running.has(id)) {
      // Delivered again while this gateway still runs it (a restarted server lost the consumer's
      // record of the delivery): it comes back after the first has recorded its result, and is
      // then acked as a duplicate instead of running twice.
      log({ id, seq: msg.seq }, 'an async job delivered again while it runs here; it waits');
      try { msg.nak(ASYNC_ACK_WAIT_MS); } catch { /* closed: it comes back after the ack wait */ }
      return;
    }
    if (typeof id === 'string') running.add(id);
    inHand++;
    const p = work(msg)
      .catch((err: unknown) => {
        // The bus failed mid-way: the job comes back after the ack wait (or at once), and what was written is idempotent.
        log({ err, seq: msg.seq }, 'an async job failed in the gateway; it is handed back');
        try { msg.nak(PULL_RETRY_MS); } catch { /* closed: it comes back after the ack wait */ }
      })
      .finally(() => {
        if (typeof id === 'string') running.delete(id);
        inHand--;
        handed.delete(p);
        roomFreed?.();
      });
    handed.add(p);
  };

  const loop = (async () => {
    while (!stopped) {
      if (inHand >= maxInFlight) {
        await new Promise<void>((r) => { roomFreed = r; });
        roomFreed = undefined;
        continue;
      }
      try {
        const consumer = await q.consumer();
        const batch = await consumer.fetch({ max_messages: maxInFlight - inHand, expires: 2000 });
        for await (const m of batch) {
          if (stopped) { m.nak(); continue; }
          handle(m);
        }
      } catch (err) {
        if (stopped) break;
        log({ err: (err as Error).message }, 'pulling async calls failed; trying again');
        await sleep(PULL_RETRY_MS);
      }
    }
  })();

  const submit = async (namespace: string, name: string, body: string, o: { id?: string; callback?: string; retry?: boolean }): Promise<InvokeReply> => {
    const id = o.id ?? randomUUID();
    const created = new Date().toISOString();
    const pendingResult: AsyncResult = {
      id, namespace, name, status: 'Pending', attempts: 0, created,
      ...(o.callback ? { callback: { url: o.callback, status: 'Pending' as const } } : {}),
    };
    let duplicate = false;
    try {
      await q.results.create(id, enc.encode(JSON.stringify(pendingResult)));
    } catch (err) {
      // The id is known: the same call again (its job is deduplicated below, or already ran).
      if (jsApiCode(err) !== JsApiCodes.WrongLastSequence && !/wrong last sequence|key exists/i.test((err as Error).message)) throw err;
      duplicate = true;
      const known = await readResult(id);
      if (known && (known.namespace !== namespace || known.name !== name)) {
        return { status: 409, body: { error: `the id "${id}" is taken by a call of ${known.namespace}/${known.name}` } };
      }
    }
    const job: AsyncJob = {
      id, namespace, name, body, created, ...(o.callback ? { callback: o.callback } : {}), ...(o.retry === false ? { retry: false } : {}),
    };
    const ack = await q.js.publish(asyncJobSubject(namespace, name), enc.encode(body), { msgID: id, headers: envelopeHeaders(job) });
    return { status: 202, body: { id, ...(duplicate || ack.duplicate ? { duplicate: true } : {}) } };
  };

  const result = async (id: string): Promise<InvokeReply> => {
    if (!ASYNC_ID.test(id)) return { status: 400, body: { error: `invalid id ${JSON.stringify(id.slice(0, 200))}` } };
    const r = await readResult(id);
    return r ? { status: 200, body: r } : { status: 404, body: { error: `async call "${id}" not found (results are kept 24 h)` } };
  };

  /** Every dead letter matching `filter`, oldest first (direct gets, no consumer). */
  const listDead = async (filter: { namespace?: string; name?: string }): Promise<DeadLetter[]> => {
    const subject = filter.namespace && filter.name ? dlqSubject(filter.namespace, filter.name) : DLQ_WILDCARD;
    const out: DeadLetter[] = [];
    let seq = 1;
    while (out.length < MAX_LISTED) {
      const m = await q.jsm.direct.getMessage(DLQ_STREAM, { seq, next_by_subj: subject });
      if (!m) break;
      seq = m.seq + 1;
      const dl = readEnvelope<DeadLetter>(m.data, m.header);
      if (!dl || (filter.namespace && dl.namespace !== filter.namespace)) continue;
      out.push({ ...dl, seq: m.seq });
    }
    return out;
  };

  const replay = async (id: string): Promise<InvokeReply> => {
    const dl = (await listDead({})).find((d) => d.id === id);
    if (!dl) return { status: 404, body: { error: `no dead letter with id "${id}"` } };
    const known = await readResult(id);
    const r: AsyncResult = {
      id, namespace: dl.namespace, name: dl.name, status: 'Pending', attempts: dl.attempts, created: dl.created,
      ...(known?.error ? { error: known.error } : {}),
      ...(dl.callback ? { callback: { url: dl.callback, status: 'Pending' as const } } : {}),
    };
    await writeResult(r);
    const job: AsyncJob = {
      id, namespace: dl.namespace, name: dl.name, body: dl.body, created: dl.created, priorAttempts: dl.attempts,
      ...(dl.callback ? { callback: dl.callback } : {}),
    };
    await q.js.publish(asyncJobSubject(dl.namespace, dl.name), enc.encode(dl.body), { msgID: `${id}-replay-${dl.seq}`, headers: envelopeHeaders(job) });
    await q.jsm.streams.deleteMessage(DLQ_STREAM, dl.seq!, false);
    return { status: 202, body: { id } };
  };

  const refreshPending = async (): Promise<void> => {
    const info = await q.jsm.streams.info(ASYNC_STREAM, { subjects_filter: ASYNC_JOB_WILDCARD });
    const seen = new Set<string>();
    for (const [subject, n] of Object.entries(info.state.subjects ?? {})) {
      const t = subject.split('.');
      if (t.length !== 5) continue;
      const [namespace, name] = [decodeToken(t[3]), decodeToken(t[4])];
      const key = `${namespace}/${name}`;
      seen.add(key);
      pending.set(key, n);
      asyncPending.set({ namespace, function: name }, n);
    }
    for (const key of [...pending.keys()]) {
      if (seen.has(key)) continue;
      pending.delete(key);
      const [namespace, name] = key.split('/');
      asyncPending.remove({ namespace, function: name });
    }
  };

  return {
    submit, result, replay, pending, refreshPending,
    deadLetters: async (filter) => ({ status: 200, body: { items: await listDead(filter) } }),
    async stop() {
      stopped = true;
      roomFreed?.();
      await loop;
      await Promise.allSettled([...handed]);
    },
  };
}
