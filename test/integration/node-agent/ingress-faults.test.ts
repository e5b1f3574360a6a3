/**
 * The node's ingress proxy under faults, fed from a real objects bucket on a real nats-server.
 * The proxy runs as the node agent runs it (node-agent/agent.ts: the node's view of Services and
 * EndpointSlices, then startNodeIngress on a fixed port) in a child process from dist/, and
 * "pods" are HTTP servers on 127.0.0.1 that answer with their service's name. A client loops
 * requests through the proxy while:
 * - the process is SIGKILLed and started again: requests fail only while it is down, then all
 *   work again; the port is free after the kill (the new process binds it) and the old pid gone;
 * - nats-server is SIGKILLed and restarted: the proxy serves its last routes throughout, and an
 *   Ingress changed after the restart takes effect;
 * - 50 Ingresses are written at once: every one of them routes to its own service.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { connectBus, ObjectStore, type Bus } from '../../../bus';
import { setLogLevel } from '../../../common/log';
import { freePort } from '../../../embedded/metrics-endpoints';
import { startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';

jest.setTimeout(180_000);

const ROOT = path.join(__dirname, '..', '..', '..');
const DIST = (p: string): string => path.join(ROOT, 'dist', p);
const built = ['bus/index.js', 'node-agent/service-network/view.js', 'node-agent/ingress/index.js'].every((p) => fs.existsSync(DIST(p)));
const maybe = built ? describe : describe.skip;

// The node agent's ingress: its view of Services (loopback "pods" allowed), then the proxy.
const CHILD = `
const [busJs, viewJs, ingressJs, url, port] = process.argv.slice(1);
const { connectBus, ObjectStore } = require(busJs);
const { watchServiceNetwork } = require(viewJs);
const { startNodeIngress } = require(ingressJs);
const log = { warn: (o, m) => console.error(m, JSON.stringify(o)), debug() {}, info() {}, error: (o, m) => console.error(m, JSON.stringify(o)) };
(async () => {
  const bus = await connectBus({ servers: url, name: 'node-ingress' });
  const store = await ObjectStore.open(bus, { create: false });
  const source = await watchServiceNetwork({ store, log, allowLoopbackEndpoints: true });
  await startNodeIngress({ store, source, port: Number(port), host: '127.0.0.1', log });
  console.log('ready ' + process.pid);
})().catch((e) => { console.error(e); process.exit(1); });
`;

const SERVICES = 50;

let server: NatsServer;
let bus: Bus;
let store: ObjectStore;
let port: number;
const backends: http.Server[] = [];
const children: ChildProcess[] = [];

/** One child; resolves once it serves. */
async function startProxy(): Promise<{ p: ChildProcess; exit: Promise<unknown>; err: () => string }> {
  const p = spawn(process.execPath, ['-e', CHILD, DIST('bus/index.js'), DIST('node-agent/service-network/view.js'), DIST('node-agent/ingress/index.js'), server.url, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(p);
  let out = '';
  let err = '';
  p.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exit = new Promise((r) => p.on('close', r));
  await until(`the ingress proxy to serve (${err})`, () => (out.includes('ready') ? true : p.exitCode !== null ? (() => { throw new Error(err); })() : undefined), 30_000);
  return { p, exit, err: () => err };
}

/** GET http://host/path through the proxy: the status and body, or the error's code. */
function get(host: string, urlPath = '/'): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, headers: { host }, agent: false, timeout: 2_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end();
  });
}

/** The body when it is a 200, else a description of what came. */
const answer = async (host: string, urlPath = '/'): Promise<string> => {
  const r = await get(host, urlPath);
  return 'error' in r ? `error ${r.error}` : r.status === 200 ? r.body : `${r.status} ${r.body}`;
};

/** Requests in a loop (one at a time) until stopped: each with its start, end and answer. */
function loop(host: string): { count(): number; stop(): Promise<{ t0: number; t1: number; got: string }[]> } {
  const results: { t0: number; t1: number; got: string }[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const t0 = Date.now();
      const got = await answer(host);
      results.push({ t0, t1: Date.now(), got });
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return { count: () => results.length, async stop() { running = false; await done; return results; } };
}

const ingress = (name: string, host: string, service: string, urlPath = '/'): object => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'default' },
  spec: { rules: [{ host, http: { paths: [{ path: urlPath, pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] } }] },
});

/** Resolves once the loop made `n` more requests. */
const more = (l: { count(): number }, n: number): Promise<true> => {
  const target = l.count() + n;
  return until(`${n} more requests`, () => (l.count() >= target ? true : undefined), 20_000);
};

/** Retries a store write until the bus takes it (right after a server restart it may not yet). */
async function put(key: string, value: object): Promise<void> {
  await until(`${key} written`, async () => {
    try {
      await store.put(key, value);
      return true;
    } catch {
      return undefined;
    }
  }, 20_000);
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

maybe('the node ingress proxy under faults', () => {
  beforeAll(async () => {
    setLogLevel('silent');
    server = await startNatsServer();
    bus = await connectBus({ servers: server.url, name: 'ingress-faults-test' });
    store = await ObjectStore.open(bus);
    port = await freePort();
    // svc-<i>'s one "pod" answers "svc-<i>".
    for (let i = 0; i < SERVICES; i++) {
      const b = http.createServer((_req, res) => res.end(`svc-${i}`));
      await new Promise<void>((r) => b.listen(0, '127.0.0.1', r));
      backends.push(b);
      const podPort = (b.address() as AddressInfo).port;
      await store.put(`services.default.svc-${i}`, {
        apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}`, namespace: 'default' },
        spec: { clusterIP: `10.96.1.${i + 1}`, ports: [{ name: 'http', port: 80, targetPort: podPort, protocol: 'TCP' }] },
      });
      await store.put(`endpointslices.default.svc-${i}-a`, {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
        metadata: { name: `svc-${i}-a`, namespace: 'default', labels: { 'kubernetes.io/service-name': `svc-${i}` } },
        addressType: 'IPv4', ports: [{ name: 'http', port: podPort, protocol: 'TCP' }],
        endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
      });
    }
    await store.put('ingresses.default.main', ingress('main', 'main.test', 'svc-0'));
  });
  afterAll(async () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        const gone = new Promise((r) => c.once('close', r));
        c.kill('SIGKILL');
        await gone;
      }
    }
    for (const b of backends) b.close();
    await bus?.close();
    await server?.stop();
  });

  it('fails requests only while the process serving it is SIGKILLed, then serves again on the same port', async () => {
    const first = await startProxy();
    await until('main.test routed', async () => ((await answer('main.test')) === 'svc-0' ? true : undefined), 10_000);
    const l = loop('main.test');
    await more(l, 10);
    const tKill = Date.now();
    first.p.kill('SIGKILL');
    await first.exit;
    expect(alive(first.p.pid!)).toBe(false);
    // Nothing listens any more: the kill left no listener behind.
    expect(await answer('main.test')).toMatch(/^error ECONNREFUSED/);
    await more(l, 5);
    // The same port binds again: no leftover socket holds it.
    const second = await startProxy();
    const tUp = Date.now();
    await until('main.test routed again', async () => ((await answer('main.test')) === 'svc-0' ? true : undefined), 10_000);
    await more(l, 10);
    const results = await l.stop();
    const failed = results.filter((r) => r.got !== 'svc-0');
    expect(results.filter((r) => r.t1 < tKill).length).toBeGreaterThan(5);
    expect(results.filter((r) => r.t0 > tUp && r.got === 'svc-0').length).toBeGreaterThan(0);
    expect(failed.length).toBeGreaterThan(0);
    // Every failure overlaps the time it was down, and every one is a refused connection (or a
    // request cut by the kill), never a wrong answer.
    for (const f of failed) {
      expect([f.t1 >= tKill, f.t0 <= tUp]).toEqual([true, true]);
      expect(f.got).toMatch(/^error /);
    }
    // Answers after it was back: all right.
    expect(results.filter((r) => r.t0 > tUp).every((r) => r.got === 'svc-0')).toBe(true);
    expect(second.p.exitCode).toBeNull();
  });

  it('keeps serving its routes while nats-server is down, and follows an Ingress changed after the restart', async () => {
    await until('main.test routed', async () => ((await answer('main.test')) === 'svc-0' ? true : undefined), 10_000);
    const l = loop('main.test');
    await more(l, 5);
    server.kill();
    // The bus is gone for a while: every request still gets its answer.
    await more(l, 40);
    await server.restart();
    await more(l, 10);
    const results = await l.stop();
    expect(results.length).toBeGreaterThan(20);
    expect(results.filter((r) => r.got !== 'svc-0')).toEqual([]);
    // Written after the restart: main.test moves to svc-1, /v2 of it to svc-2.
    await put('ingresses.default.main', ingress('main', 'main.test', 'svc-1'));
    await put('ingresses.default.main-v2', ingress('main-v2', 'main.test', 'svc-2', '/v2'));
    await until('main.test moved to svc-1', async () => ((await answer('main.test')) === 'svc-1' ? true : undefined), 20_000);
    await until('main.test/v2 routed to svc-2', async () => ((await answer('main.test', '/v2/x')) === 'svc-2' ? true : undefined), 20_000);
    expect(await answer('main.test', '/other')).toBe('svc-1');
  });

  it('routes each of 50 Ingresses written at once to its own service', async () => {
    await Promise.all(Array.from({ length: SERVICES }, (_, i) => store.put(`ingresses.default.burst-${i}`, ingress(`burst-${i}`, `h${i}.burst.test`, `svc-${i}`))));
    const hosts = Array.from({ length: SERVICES }, (_, i) => `h${i}.burst.test`);
    await until('every burst host routed', async () => {
      const got = await Promise.all(hosts.map((h) => answer(h)));
      return got.every((g, i) => g === `svc-${i}`) ? true : undefined;
    }, 20_000);
    // Each, asked again at once: still its own.
    const again = await Promise.all(hosts.map((h) => answer(h)));
    expect(again).toEqual(hosts.map((_, i) => `svc-${i}`));
    // A host no rule names: 404 from the proxy, not another service's answer.
    expect(await answer('nobody.burst.test')).toMatch(/^404/);
  });
});
