/**
 * The gateway in-process: a fake bus (the api's list answered from arrays, publications kept),
 * instances as plain HTTP servers on loopback addresses. No nats-server, no control plane.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { NatsConnection } from '@nats-io/transport-node';
import { decode, encode } from '../../bus/core-client';
import { register } from '../../common/metrics';
import { FUNCTION_LABEL, functionInvokeSubject, type FunctionObject, type GatewayStats, type InvokeReply, type Pod } from '../../messages';
import { notSent, parseRoute, startGateway, UNKNOWN_FUNCTION_LABEL, type Gateway } from './gateway';

interface FakeMsg { subject: string; data: Uint8Array; respond(data: Uint8Array): boolean }

/**
 * A bus whose api list answers from `state`; `beforeList` may hold a listing (its snapshot is
 * taken first); `reconnect()` tells the connection's status listeners it came back.
 */
function fakeBus(state: { functions: FunctionObject[]; pods: Pod[] }, maxPayload?: number) {
  const published: { subject: string; data: Uint8Array }[] = [];
  let onInvoke: ((err: Error | null, msg: FakeMsg) => void) | undefined;
  const hooks: { beforeList?: (kind: string) => Promise<void> } = {};
  const statusListeners = new Set<(s: { type: string }) => void>();
  const nc = {
    info: maxPayload ? { max_payload: maxPayload } : undefined,
    request: async (_subject: string, data: Uint8Array) => {
      const req = decode<{ kind: string }>(data);
      const items = structuredClone(req.kind === 'functions' ? state.functions : state.pods);
      await hooks.beforeList?.(req.kind);
      return { data: encode({ ok: true, items, resourceVersion: '1' }) };
    },
    status: () => {
      const queued: { type: string }[] = [];
      let stopped = false;
      let wakeUp: (() => void) | undefined;
      const push = (s: { type: string }): void => { queued.push(s); wakeUp?.(); };
      statusListeners.add(push);
      return {
        stop: () => { stopped = true; statusListeners.delete(push); wakeUp?.(); },
        async *[Symbol.asyncIterator]() {
          while (!stopped) {
            const next = queued.shift();
            if (next) { yield next; continue; }
            await new Promise<void>((r) => { wakeUp = r; });
          }
        },
      };
    },
    publish: (subject: string, data: Uint8Array) => { published.push({ subject, data }); },
    subscribe: (_subject: string, opts: { callback: (err: Error | null, msg: FakeMsg) => void }) => {
      onInvoke = opts.callback;
      return { unsubscribe: () => { onInvoke = undefined; } };
    },
    flush: async () => undefined,
  };
  return {
    bus: { nc: nc as unknown as NatsConnection, close: async () => undefined },
    published,
    hooks,
    /** The connection came back after a server restart. */
    reconnect(): void { for (const l of statusListeners) l({ type: 'reconnect' }); },
    /** A NATS call; `respond` may refuse (throw) as a real connection does for a reply over max_payload. */
    natsCall(ns: string, name: string, body: string, respond: (data: Uint8Array) => void): void {
      if (!onInvoke) throw new Error('not subscribed');
      onInvoke(null, { subject: functionInvokeSubject(ns, name), data: new TextEncoder().encode(body), respond: (d) => { respond(d); return true; } });
    },
  };
}

const fnObj = (name: string, spec: Partial<FunctionObject['spec']> = {}): FunctionObject => ({
  apiVersion: 'mk.io/v1', kind: 'Function',
  metadata: { name, namespace: 'default', uid: `uid-${name}` },
  spec: { runtime: 'python3', handler: 'm.h', code: { digest: `sha256:${'0'.repeat(64)}`, size: 1, files: 1 }, ...spec },
} as FunctionObject);

const podObj = (fn: string, name: string, ip: string): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { [FUNCTION_LABEL]: fn }, ownerReferences: [{ apiVersion: 'mk.io/v1', kind: 'Function', name: fn, uid: `uid-${fn}`, controller: true }] },
  spec: { containers: [] },
  status: { podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
} as unknown as Pod);

/** An instance's loader: `handle` answers each /run; the requests it got are counted. */
async function instance(host: string, port: number, handle: (body: string, res: http.ServerResponse) => void) {
  const got: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => { const b = Buffer.concat(chunks).toString('utf8'); got.push(b); handle(b, res); });
  });
  await new Promise<void>((r) => server.listen(port, host, () => r()));
  return { got, port: (server.address() as AddressInfo).port, close: () => { server.closeAllConnections(); return new Promise<void>((r) => server.close(() => r())); } };
}

/** Sends raw bytes and resolves with the first response's text (the socket may stay open). */
function raw(url: string, bytes: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname, () => s.write(bytes));
    let text = '';
    s.on('data', (d) => {
      text += d.toString('utf8');
      const head = text.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(text);
      if (head >= 0 && len && text.length >= head + 4 + Number(len[1])) { s.destroy(); resolve(text); }
    });
    s.on('error', (err) => (text ? resolve(text) : reject(err)));
    s.on('close', () => resolve(text));
  });
}

const ok = (body: unknown) => (_b: string, res: http.ServerResponse): void => {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('parseRoute', () => {
  it('answers malformed targets and escapes with an error instead of throwing', () => {
    expect(parseRoute('//')).toHaveProperty('error');
    expect(parseRoute('//[')).toHaveProperty('error');
    expect(parseRoute('/function/%zz/x')).toHaveProperty('error');
    expect(parseRoute('/function/default/a%2Db')).toEqual({ path: '/function/default/a%2Db', fn: { namespace: 'default', name: 'a-b' } });
    expect(parseRoute('/healthz')).toEqual({ path: '/healthz' });
  });

  it('keeps the query of a call and names the result route', () => {
    expect(parseRoute('/function/default/add?async=true&id=x1')).toEqual({
      path: '/function/default/add', search: '?async=true&id=x1', fn: { namespace: 'default', name: 'add' },
    });
    expect(parseRoute('/function-results/abc-1')).toEqual({ path: '/function-results/abc-1', resultId: 'abc-1' });
    expect(parseRoute('/function-results/')).toEqual({ path: '/function-results/' });
  });
});

describe('notSent', () => {
  it('retries no error code once the request was written', () => {
    for (const code of ['ECONNREFUSED', 'EHOSTUNREACH', 'ECONNRESET', 'EPIPE']) {
      expect(notSent(Object.assign(new Error(code), { code }), false)).toBe(true);
      expect(notSent(Object.assign(new Error(code), { code }), true)).toBe(false);
    }
    expect(notSent(Object.assign(new Error('x'), { code: 'ETIMEDOUT' }), false)).toBe(false);
  });
});

describe('the gateway', () => {
  let gw: Gateway | undefined;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
    for (const c of closers.splice(0)) await c();
  });

  it('answers 400 to targets and escapes that do not parse, and keeps serving', async () => {
    const f = fakeBus({ functions: [], pods: [] });
    gw = await startGateway({ bus: f.bus, port: 0, async: false, refreshMs: 50 });
    for (const target of ['//', '//[', '/function/%zz/x']) {
      const text = await raw(gw.url, `POST ${target} HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}`);
      expect(text).toMatch(/^HTTP\/1\.1 400 /);
    }
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });

  it('answers 413 at once from Content-Length, and while streaming, closing the connection', async () => {
    const f = fakeBus({ functions: [fnObj('f')], pods: [] });
    gw = await startGateway({ bus: f.bus, port: 0, async: false, refreshMs: 50 });
    // No body follows: the answer must not wait for it.
    const declared = await raw(gw.url, `POST /function/default/f HTTP/1.1\r\nhost: x\r\ncontent-length: ${7 * 1024 * 1024}\r\n\r\n`);
    expect(declared).toMatch(/^HTTP\/1\.1 413 /);
    expect(declared).toMatch(/connection: close/i);
    // Chunked: 7 chunks of 1 MiB, then the stream stays open; the answer comes once the limit is passed.
    const chunk = `${(1024 * 1024).toString(16)}\r\n${'x'.repeat(1024 * 1024)}\r\n`;
    const streamed = await raw(gw.url, `POST /function/default/f HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n${chunk.repeat(7)}`);
    expect(streamed).toMatch(/^HTTP\/1\.1 413 /);
    expect(streamed).toMatch(/connection: close/i);
  });

  it('caps an instance result so the NATS reply fits, and answers a reply the server refuses with a small error', async () => {
    const big = 'y'.repeat(4000);
    const inst = await instance('127.0.0.1', 0, ok({ big }));
    closers.push(inst.close);
    const f = fakeBus({ functions: [fnObj('f')], pods: [podObj('f', 'f-1', '127.0.0.1')] }, 2048);
    gw = await startGateway({ bus: f.bus, port: 0, async: false, refreshMs: 50, instancePort: inst.port });
    const r = await gw.invoke('default', 'f', '{}');
    expect(r.status).toBe(502);
    expect(JSON.stringify(r.body)).toMatch(/result larger than 1024 bytes/);

    const small = await instance('127.0.0.2', inst.port, ok({ ok: 1 }));
    closers.push(small.close);
    const replies: InvokeReply[] = [];
    let refused = false;
    const f2 = fakeBus({ functions: [fnObj('g')], pods: [podObj('g', 'g-1', '127.0.0.2')] });
    await gw.stop();
    gw = await startGateway({ bus: f2.bus, port: 0, async: false, refreshMs: 50, instancePort: inst.port });
    f2.natsCall('default', 'g', '{}', (d) => {
      if (!refused) { refused = true; throw new Error('MAX_PAYLOAD_EXCEEDED'); }
      replies.push(decode<InvokeReply>(d));
    });
    await until('the error reply', () => replies.length === 1);
    expect(replies[0].status).toBe(502);
    expect(JSON.stringify(replies[0].body)).toMatch(/MAX_PAYLOAD_EXCEEDED/);
  });

  it('quarantines an instance that held a call past the timeout and reports it for recycling', async () => {
    const hung = await instance('127.0.0.1', 0, () => undefined);
    closers.push(hung.close);
    const good = await instance('127.0.0.2', hung.port, ok({ ok: true }));
    closers.push(good.close);
    const state = { functions: [fnObj('f', { timeoutSeconds: 1, concurrency: 5 })], pods: [podObj('f', 'f-hung', '127.0.0.1'), podObj('f', 'f-good', '127.0.0.2')] };
    const f = fakeBus(state);
    gw = await startGateway({ bus: f.bus, port: 0, async: false, refreshMs: 20, reportMs: 20, instancePort: hung.port });
    const first = await gw.invoke('default', 'f', '{}');
    expect(first.status).toBe(504);
    expect(hung.got).toHaveLength(1);
    // The listing still says f-hung is Ready: no call goes there again.
    for (let i = 0; i < 5; i++) expect((await gw.invoke('default', 'f', '{}')).status).toBe(200);
    expect(hung.got).toHaveLength(1);
    const recycled = (): string[] => f.published.filter((p) => p.subject.startsWith('mk.fn.stats.'))
      .flatMap((p) => decode<GatewayStats>(p.data).functions.flatMap((x) => x.recycle ?? []));
    await until('a report naming f-hung', () => recycled().includes('f-hung'));
    // Once the pod is gone its name is no longer reported.
    state.pods = state.pods.filter((p) => p.metadata.name !== 'f-hung');
    const lastReport = (): GatewayStats => decode<GatewayStats>(f.published.filter((p) => p.subject.startsWith('mk.fn.stats.')).at(-1)?.data ?? encode({ functions: [] }));
    await until('a report without f-hung', () => { const fs = lastReport().functions; return fs.length === 1 && fs[0].recycle === undefined; });
  });

  it('labels calls to unknown functions <unknown>, and forgets a deleted function and its recycled pods', async () => {
    const inst = await instance('127.0.0.1', 0, ok({ ok: true }));
    closers.push(inst.close);
    const state = { functions: [fnObj('gone-fn')], pods: [podObj('gone-fn', 'gone-fn-1', '127.0.0.1')] };
    const f = fakeBus(state);
    gw = await startGateway({ bus: f.bus, port: 0, async: false, refreshMs: 20, reportMs: 20, instancePort: inst.port });
    expect((await gw.invoke('default', 'no-such-caller-name', '{}')).status).toBe(404);
    expect((await gw.invoke('default', 'gone-fn', '{}')).status).toBe(200);
    let text = await register.metrics();
    expect(text).toContain(`function="${UNKNOWN_FUNCTION_LABEL}"`);
    expect(text).not.toContain('no-such-caller-name');
    expect(text).toContain('function="gone-fn"');
    state.functions = [];
    state.pods = [];
    await until('the deleted function\'s label sets go', async () => { text = await register.metrics(); return !text.includes('function="gone-fn"'); });
    const reportsAfter = f.published.length;
    await until('a later report', () => f.published.length > reportsAfter + 2);
    const last = decode<GatewayStats>(f.published[f.published.length - 1].data);
    expect(last.functions).toEqual([]);
  });

  it('a call to a function created during a listing that started earlier is not answered 404', async () => {
    const inst = await instance('127.0.0.1', 0, ok({ ok: true }));
    closers.push(inst.close);
    const state: { functions: FunctionObject[]; pods: Pod[] } = { functions: [], pods: [] };
    const f = fakeBus(state);
    gw = await startGateway({ bus: f.bus, port: 0, async: false, refreshMs: 3_600_000, instancePort: inst.port });
    let release: () => void = () => undefined;
    let held = 0;
    f.hooks.beforeList = () => (held++ < 1 ? new Promise<void>((r) => { const prev = release; release = () => { prev(); r(); }; }) : Promise.resolve());
    // A listing starts (for a function that does not exist) and is held with its snapshot taken
    // (no function yet: the functions alone are listed).
    const unknown = gw.invoke('default', 'nothing', '{}');
    await until('the listing is held', () => held === 1);
    state.functions = [fnObj('fresh')];
    state.pods = [podObj('fresh', 'fresh-1', '127.0.0.1')];
    const call = gw.invoke('default', 'fresh', '{}');
    release();
    expect((await call).status).toBe(200);
    expect((await unknown).status).toBe(404);
  });

  it('reports viewAt, when its last completed listing started: a held or failed listing does not move it', async () => {
    const f = fakeBus({ functions: [fnObj('f')], pods: [] });
    gw = await startGateway({ bus: f.bus, port: 0, async: false, refreshMs: 20, idleRefreshMs: 20, reportMs: 20 });
    const lastViewAt = (): number | undefined => {
      const r = f.published.filter((p) => p.subject.startsWith('mk.fn.stats.')).at(-1);
      return r ? decode<GatewayStats>(r.data).viewAt : undefined;
    };
    await until('a report with viewAt', () => (lastViewAt() ?? 0) > 0);
    let release: () => void = () => undefined;
    let failNext = false;
    f.hooks.beforeList = () => new Promise<void>((resolve, reject) => { release = () => (failNext ? reject(new Error('bus down')) : resolve()); });
    const heldFrom = Date.now();
    // Listings are held: reports go on with a view from before.
    const reports = f.published.length;
    await until('reports while the listing is held', () => f.published.length > reports + 3);
    expect(lastViewAt()).toBeLessThanOrEqual(heldFrom);
    // A listing that fails leaves it too.
    failNext = true;
    release();
    const afterFail = f.published.length;
    await until('reports after the failed listing', () => f.published.length > afterFail + 3);
    expect(lastViewAt()).toBeLessThanOrEqual(heldFrom);
    failNext = false;
    f.hooks.beforeList = undefined;
    release();
    await until('a view from after the hold', () => (lastViewAt() ?? 0) > heldFrom);
  });

  it('lists every 25 ms while a call waits for a function with no instance, and at its normal period once served', async () => {
    const inst = await instance('127.0.0.1', 0, ok({ ok: true }));
    closers.push(inst.close);
    const state: { functions: FunctionObject[]; pods: Pod[] } = { functions: [fnObj('cold')], pods: [] };
    const f = fakeBus(state);
    let lists = 0;
    f.hooks.beforeList = async () => { lists++; };
    gw = await startGateway({ bus: f.bus, port: 0, async: false, refreshMs: 3_600_000, idleRefreshMs: 3_600_000, instancePort: inst.port });
    // The listing loop's waits are its setTimeout calls: their delays are its periods.
    const timers = jest.spyOn(global, 'setTimeout');
    const waitsFrom = (i: number): unknown[] => timers.mock.calls.slice(i).map((c) => c[1]);
    try {
      const call = gw.invoke('default', 'cold', '{}');
      const from = lists;
      // At the normal period (an hour) there would be one listing; the loop waits the cold period instead.
      await until('ten listings with waits of 25 ms between them', () => lists >= from + 10 && waitsFrom(0).filter((ms) => ms === 25).length >= 3);
      const beforeServed = timers.mock.calls.length;
      state.pods = [podObj('cold', 'cold-1', '127.0.0.1')];
      expect((await call).status).toBe(200);
      await until('the listing loop waiting its normal period again', () => waitsFrom(beforeServed).includes(3_600_000));
    } finally {
      timers.mockRestore();
    }
  });

  it('a call to a function it does not know waits for a listing that succeeds: never 404 while the api does not answer', async () => {
    const inst = await instance('127.0.0.1', 0, ok({ ok: true }));
    closers.push(inst.close);
    const state: { functions: FunctionObject[]; pods: Pod[] } = { functions: [fnObj('known')], pods: [podObj('known', 'known-1', '127.0.0.1')] };
    const f = fakeBus(state);
    // The gateway starts while the api does not answer (a control plane restarting): every listing fails.
    let failures = 0;
    f.hooks.beforeList = async () => { failures++; throw new Error('no responders'); };
    gw = await startGateway({ bus: f.bus, port: 0, async: false, refreshMs: 3_600_000, idleRefreshMs: 3_600_000, instancePort: inst.port });
    const call = gw.invoke('default', 'known', '{}');
    await until('listings failing', () => failures >= 3);
    f.hooks.beforeList = undefined;
    expect((await call).status).toBe(200);
  });

  it('gives up a listing in flight when the bus reconnects: a call waiting for a first instance gets the one listed after', async () => {
    const inst = await instance('127.0.0.1', 0, ok({ ok: true }));
    closers.push(inst.close);
    const state: { functions: FunctionObject[]; pods: Pod[] } = { functions: [fnObj('cold')], pods: [] };
    const f = fakeBus(state);
    gw = await startGateway({
      bus: f.bus, port: 0, async: false, refreshMs: 3_600_000, idleRefreshMs: 3_600_000, coldRefreshMs: 3_600_000, instancePort: inst.port,
    });
    // The next pods listing is lost with the connection (a NATS restart): it never answers until released, with its old snapshot.
    let releaseLost: () => void = () => undefined;
    let lost = 0;
    let lateAnswered = false;
    f.hooks.beforeList = (kind) => (kind === 'pods' && lost++ === 0
      ? new Promise<void>((r) => { releaseLost = r; }).then(() => { lateAnswered = true; })
      : Promise.resolve());
    const call = gw.invoke('default', 'cold', '{}');
    await until('the pods listing is in flight', () => lost === 1);
    // The instance becomes ready while the listing hangs; the connection comes back.
    state.pods = [podObj('cold', 'cold-1', '127.0.0.1')];
    f.reconnect();
    // Served while the lost listing still hangs: by the listing the reconnect started, not by
    // waiting that one out (a request timeout, 10 s) or the call's deadline (60 s).
    expect((await call).status).toBe(200);
    expect(lateAnswered).toBe(false);
    // The lost listing answering late, with no instance, does not take the instance away.
    releaseLost();
    await until('the late listing answered', () => lateAnswered);
    expect((await gw.invoke('default', 'cold', '{}')).status).toBe(200);
    expect(inst.got).toHaveLength(2);
  });

  it('on stop answers queued calls 503 and lets calls in flight finish', async () => {
    let answerSlow: () => void = () => undefined;
    const inst = await instance('127.0.0.1', 0, (_b, res) => { answerSlow = () => ok({ done: true })('', res); });
    closers.push(inst.close);
    const f = fakeBus({ functions: [fnObj('f', { concurrency: 1 })], pods: [podObj('f', 'f-1', '127.0.0.1')] });
    gw = await startGateway({ bus: f.bus, port: 0, async: false, refreshMs: 20, instancePort: inst.port, stopGraceMs: 5000 });
    const inFlight = gw.invoke('default', 'f', '{}');
    await until('the call reaches the instance', () => inst.got.length === 1);
    const queued = gw.invoke('default', 'f', '{}');
    const stopping = gw.stop();
    expect((await queued).status).toBe(503);
    answerSlow();
    expect(await inFlight).toMatchObject({ status: 200, body: { done: true } });
    await stopping;
    gw = undefined;
  });
});
