/**
 * The ingress proxy against real HTTP servers on loopback addresses (127.0.0.x), with services
 * and endpoints from an in-memory source: routing, the error answers, retries, round-robin, a
 * route change under open connections, a burst of concurrent requests and a websocket upgrade.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { register } from '../../common/metrics/registry';
import { FakeServiceNetworkSource } from './fake-source';
import { startIngressProxy, type IngressProxy } from './proxy';
import { RouteTable } from './routes';
import { closeServer, ingressOf as ingress, upstream, type Upstream } from './test-fixtures';

jest.setTimeout(30_000);


/** One request through the proxy; resolves with status, body and headers. */
function get(port: number, path: string, opts: { host?: string; method?: string; body?: string; agent?: http.Agent; headers?: http.OutgoingHttpHeaders } = {}) {
  return new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders; reused: boolean }>((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, path, method: opts.method ?? 'GET', agent: opts.agent ?? false,
      headers: { host: opts.host ?? 'example.com', ...(opts.headers ?? {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

let a: Upstream;
let b: Upstream;
let slow: Upstream;
let source: FakeServiceNetworkSource;
let proxy: IngressProxy;

beforeAll(async () => {
  a = await upstream('a', '127.0.0.2');
  b = await upstream('b', '127.0.0.3');
  slow = await upstream('slow', '127.0.0.4', { slowPath: '/slow', silentPath: '/silent' });
  source = new FakeServiceNetworkSource();
  source.setService('default', 'svc-a', [{ name: 'http', port: 80, targetPort: a.port }], [{ ip: a.ip }]);
  source.setService('default', 'svc-b', [{ port: 80, targetPort: b.port }], [{ ip: b.ip }]);
  source.setService('default', 'svc-slow', [{ port: 80, targetPort: slow.port }], [{ ip: slow.ip }]);
  proxy = await startIngressProxy({ source, port: 0, host: '127.0.0.1', upstreamTimeoutMs: 500 });
});

afterAll(async () => {
  await proxy?.stop();
  slow?.release();
  for (const u of [a, b, slow]) if (u) await closeServer(u.server);
});

describe('routing', () => {
  beforeAll(() => proxy.setRoutes(new RouteTable([ingress([
    { host: 'a.example.com', paths: [{ path: '/', to: 'svc-a', port: { name: 'http' } }] },
    { host: '*.example.com', paths: [{ path: '/', to: 'svc-b' }] },
    { paths: [{ path: '/api', to: 'svc-a' }, { path: '/api/b', to: 'svc-b' }, { path: '/gone', to: 'nope' }] },
  ], 'svc-b')])));

  it('routes by host (exact before wildcard) and by path (longest first)', async () => {
    expect((await get(proxy.port, '/x?q=1', { host: 'a.example.com' })).body).toBe('a GET /x?q=1');
    expect((await get(proxy.port, '/x', { host: 'other.example.com:8080' })).body).toBe('b GET /x');
    expect((await get(proxy.port, '/api/v1', { host: 'elsewhere.org' })).body).toBe('a GET /api/v1');
    expect((await get(proxy.port, '/api/b/c', { host: 'elsewhere.org' })).body).toBe('b GET /api/b/c');
  });

  it('matches and forwards the path with dot-segments resolved, and answers 400 for no path', async () => {
    // `/api/../apix` is `/apix`: not under `/api`, so the default backend's, and sent resolved.
    expect((await get(proxy.port, '/api/../apix', { host: 'elsewhere.org' })).body).toBe('b GET /apix');
    expect((await get(proxy.port, '/apix/%2e%2e/api/./v1?q=/../', { host: 'elsewhere.org' })).body).toBe('a GET /api/v1?q=/../');
    expect((await get(proxy.port, '/api/%zz', { host: 'elsewhere.org' })).status).toBe(400);
  });

  it('sends what matches no rule to the default backend', async () => {
    expect((await get(proxy.port, '/apix', { host: 'elsewhere.org' })).body).toBe('b GET /apix');
  });

  it('pipes request bodies and sets X-Forwarded-*, dropping hop-by-hop headers', async () => {
    const res = await get(proxy.port, '/api/post', { host: 'elsewhere.org', method: 'POST', body: 'hello', headers: { 'x-forwarded-for': '10.1.1.1', connection: 'keep-alive, x-hop', 'x-hop': 'secret', 'keep-alive': 'timeout=5' } });
    expect(res.body).toBe('a POST /api/post hello');
    expect(JSON.parse(String(res.headers['x-seen']))).toEqual({ xff: '10.1.1.1, 127.0.0.1', xfh: 'elsewhere.org', xfp: 'http', host: 'elsewhere.org' });
  });

  it('answers 503 for a missing service, naming it', async () => {
    const res = await get(proxy.port, '/gone', { host: 'elsewhere.org' });
    expect(res.status).toBe(503);
    expect(res.body).toMatch(/service "default\/nope" not found/);
  });

  it('answers 404 when nothing matches and there is no default backend', async () => {
    proxy.setRoutes(new RouteTable([ingress([{ host: 'only.com', paths: [{ path: '/', to: 'svc-a' }] }])]));
    expect((await get(proxy.port, '/', { host: 'else.com' })).status).toBe(404);
    expect((await get(proxy.port, '/', { host: 'only.com' })).status).toBe(200);
  });
});

describe('endpoints', () => {
  beforeAll(() => proxy.setRoutes(new RouteTable([ingress([
    { host: 'rr.com', paths: [{ path: '/', to: 'svc-rr' }] },
    { host: 'dead.com', paths: [{ path: '/', to: 'svc-dead' }] },
    { host: 'unready.com', paths: [{ path: '/', to: 'svc-unready' }] },
    { host: 'slow.com', paths: [{ path: '/', to: 'svc-slow' }] },
    { host: 'raw.com', paths: [{ path: '/', to: 'svc-raw' }] },
  ])])));

  it('spreads requests round-robin over the ready endpoints', async () => {
    // Both upstreams listen on their own port; a slice port is one number, so both answer on it.
    const shared = await upstream('b2', '127.0.0.3');
    const other = await upstream('a2', '127.0.0.2');
    await closeServer(other.server);
    const rrA = await new Promise<http.Server>((resolve) => {
      const s = http.createServer((_q, r) => r.end('A')).listen(shared.port, '127.0.0.2', () => resolve(s));
    });
    try {
      source.setService('default', 'svc-rr', [{ port: 80, targetPort: shared.port }], [{ ip: '127.0.0.2' }, { ip: '127.0.0.3' }, { ip: '127.0.0.5', ready: false }]);
      const bodies = await Promise.all([0, 1, 2, 3].map(async () => (await get(proxy.port, '/', { host: 'rr.com' })).body));
      expect(bodies.filter((x) => x === 'A')).toHaveLength(2);
      expect(bodies.filter((x) => x.startsWith('b2'))).toHaveLength(2);
    } finally {
      await closeServer(rrA);
      await closeServer(shared.server);
    }
  });

  it('tries another endpoint when one refuses a GET, and answers 502 when all do', async () => {
    const closed = await upstream('x', '127.0.0.6');
    await closeServer(closed.server);
    source.setService('default', 'svc-dead', [{ port: 80, targetPort: a.port }], [{ ip: '127.0.0.6' }, { ip: a.ip }]);
    const ok = await Promise.all([0, 1, 2, 3].map(() => get(proxy.port, '/r', { host: 'dead.com' })));
    expect(ok.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    source.setService('default', 'svc-dead', [{ port: 80, targetPort: closed.port }], [{ ip: '127.0.0.6' }]);
    const bad = await get(proxy.port, '/r', { host: 'dead.com' });
    expect(bad.status).toBe(502);
    expect(bad.body).toMatch(/upstream failed: .*ECONNREFUSED/);
  });

  it('sends a GET again on a fresh connection when the upstream closed the kept-alive one', async () => {
    // A raw upstream: each connection answers its first request and is dropped at its second.
    const sockets = new Set<net.Socket>();
    const raw = net.createServer((sock) => {
      sockets.add(sock);
      let served = 0;
      sock.on('data', () => {
        served++;
        if (served === 1) sock.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: keep-alive\r\n\r\nfresh');
        else sock.destroy();
      });
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.8', r));
    try {
      source.setService('default', 'svc-raw', [{ port: 80, targetPort: (raw.address() as AddressInfo).port }], [{ ip: '127.0.0.8' }]);
      expect(await get(proxy.port, '/1', { host: 'raw.com' })).toMatchObject({ status: 200, body: 'fresh' });
      expect(await get(proxy.port, '/2', { host: 'raw.com' })).toMatchObject({ status: 200, body: 'fresh' });
      expect(sockets.size).toBe(2);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => raw.close(() => r()));
    }
  });

  it('answers 503 when the service has no ready endpoint', async () => {
    source.setService('default', 'svc-unready', [{ port: 80, targetPort: a.port }], [{ ip: a.ip, ready: false }]);
    const res = await get(proxy.port, '/', { host: 'unready.com' });
    expect(res).toMatchObject({ status: 503, body: expect.stringMatching(/has no ready endpoints/) });
  });

  it('answers 504 when the upstream does not answer in time', async () => {
    const res = await get(proxy.port, '/silent', { host: 'slow.com' });
    expect(res).toMatchObject({ status: 504, body: 'upstream timed out\n' });
  });

  it('counts requests by code in mk_ingress_requests_total', async () => {
    const text = await register.getSingleMetricAsString('mk_ingress_requests_total');
    for (const code of ['200', '404', '502', '503', '504']) expect(text).toMatch(new RegExp(`mk_ingress_requests_total\\{code="${code}"\\} [1-9]`));
    expect(await register.getSingleMetricAsString('mk_ingress_upstream_duration_seconds')).toMatch(/_count [1-9]/);
  });
});

describe('route changes and load', () => {
  it('drops neither a slow request in flight nor an open keep-alive connection when the routes change', async () => {
    proxy.setRoutes(new RouteTable([ingress([{ host: 'slow.com', paths: [{ path: '/', to: 'svc-slow' }] }, { host: 'ka.com', paths: [{ path: '/', to: 'svc-a' }] }])]));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(proxy.port, '/one', { host: 'ka.com', agent });
      expect(first.body).toBe('a GET /one');
      const pending = get(proxy.port, '/slow', { host: 'slow.com' });
      const hitsBefore = slow.hits;
      await until(() => slow.hits > hitsBefore);
      // The change: ka.com now goes to b, and slow.com is gone.
      proxy.setRoutes(new RouteTable([ingress([{ host: 'ka.com', paths: [{ path: '/', to: 'svc-b' }] }])]));
      const second = await get(proxy.port, '/two', { host: 'ka.com', agent });
      expect(second).toMatchObject({ status: 200, body: 'b GET /two', reused: true });
      slow.release();
      expect(await pending).toMatchObject({ status: 200, body: 'slow GET /slow' });
      expect((await get(proxy.port, '/slow', { host: 'slow.com' })).status).toBe(404);
    } finally {
      agent.destroy();
    }
  });

  it('answers every one of 500 concurrent requests', async () => {
    proxy.setRoutes(new RouteTable([ingress([{ paths: [{ path: '/a', to: 'svc-a' }, { path: '/b', to: 'svc-b' }] }])]));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 500 });
    try {
      const results = await Promise.all(Array.from({ length: 500 }, (_, i) => get(proxy.port, `/${i % 2 ? 'a' : 'b'}/${i}`, { agent })));
      expect(results.filter((r) => r.status === 200)).toHaveLength(500);
      results.forEach((r, i) => expect(r.body).toBe(`${i % 2 ? 'a' : 'b'} GET /${i % 2 ? 'a' : 'b'}/${i}`));
    } finally {
      agent.destroy();
    }
  });

  it('passes a websocket upgrade through both ways', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.7', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    wss.on('connection', (ws, req) => ws.on('message', (m) => ws.send(`echo ${String(m)} from ${req.url} host ${req.headers.host}`)));
    try {
      source.setService('default', 'svc-ws', [{ port: 80, targetPort: (wss.address() as AddressInfo).port }], [{ ip: '127.0.0.7' }]);
      proxy.setRoutes(new RouteTable([ingress([{ host: 'ws.com', paths: [{ path: '/ws', to: 'svc-ws' }] }])]));
      const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/ws/chat`, { headers: { host: 'ws.com' } });
      const reply = await new Promise<string>((resolve, reject) => {
        ws.once('open', () => ws.send('hi'));
        ws.once('message', (m) => resolve(String(m)));
        ws.once('error', reject);
      });
      expect(reply).toBe('echo hi from /ws/chat host ws.com');
      ws.close();
    } finally {
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });
});

describe('stopping', () => {
  it('stops listening at once, lets a request in flight finish, then closes', async () => {
    const own = await startIngressProxy({ source, port: 0, host: '127.0.0.1', drainMs: 5_000 });
    own.setRoutes(new RouteTable([ingress([{ paths: [{ path: '/', to: 'svc-slow' }] }])]));
    const hitsBefore = slow.hits;
    const pending = get(own.port, '/slow');
    await until(() => slow.hits > hitsBefore);
    const stopped = own.stop();
    await expect(get(own.port, '/other')).rejects.toThrow(/ECONNREFUSED/);
    slow.release();
    expect(await pending).toMatchObject({ status: 200, body: 'slow GET /slow' });
    await stopped;
  });
});

/** Waits for `cond` with a deadline (no sleeps as synchronization). */
async function until(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
