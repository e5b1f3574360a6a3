/**
 * nginx as the ingress proxy, for real: nginx is started on 127.0.0.1 with a config written
 * from route tables, in front of HTTP servers on loopback addresses. The matching table of
 * routes.test.ts and the answers of proxy.test.ts, a reload under a slow request, coalesced
 * changes, a restart after nginx dies and the cleanup of a master an earlier run left.
 * Skipped (saying so) where nginx is not installed; scripts/install.sh installs it.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import type { Ingress } from '../../messages/ingress';
import { FakeServiceNetworkSource } from './fake-source';
import { findNginx, startNginxProxy, type NginxProxy } from './nginx';
import { nginxConfig } from './nginx-config';
import { RouteTable } from './routes';
import { closeServer, ingressOf as ingress, upstream, type RulePath, type Upstream } from './test-fixtures';

jest.setTimeout(60_000);

const NGINX = findNginx();
if (!NGINX) console.warn('nginx is not installed: the nginx ingress tests are skipped (scripts/install.sh installs it)');
const describeNginx = NGINX ? describe : describe.skip;

/** Polls `fn` until it gives a value; throws naming `what` after `ms`. */
async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}


async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}


function get(port: number, p: string, opts: { host?: string; method?: string; body?: string; agent?: http.Agent; headers?: http.OutgoingHttpHeaders } = {}) {
  return new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, path: p, method: opts.method ?? 'GET', agent: opts.agent ?? false,
      headers: { host: opts.host ?? 'example.com', ...(opts.headers ?? {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describeNginx('nginx as the ingress proxy', () => {
  let dir: string;
  let port: number;
  let source: FakeServiceNetworkSource;
  let proxy: NginxProxy;
  const ups = new Map<string, Upstream>();
  let slow: Upstream;

  /** Services svc-<name>, each its own upstream on 127.0.0.2. */
  const serve = async (...names: string[]) => {
    for (const n of names) {
      if (ups.has(n)) continue;
      const u = await upstream(n, '127.0.0.2');
      ups.set(n, u);
      source.setService('default', n, [{ name: 'http', port: 80, targetPort: u.port }], [{ ip: u.ip }]);
    }
  };
  const route = async (ings: Ingress[]) => {
    proxy.setRoutes(new RouteTable(ings));
    await proxy.settled();
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-nginx-'));
    port = await freePort();
    source = new FakeServiceNetworkSource();
    slow = await upstream('slow', '127.0.0.4', { slowPath: '/slow', silentPath: '/silent' });
    source.setService('default', 'svc-slow', [{ port: 80, targetPort: slow.port }], [{ ip: slow.ip }]);
    proxy = await startNginxProxy({ source, port, host: '127.0.0.1', dir, upstreamTimeoutMs: 500, drainMs: 5000 });
  });

  afterAll(async () => {
    await proxy?.stop();
    slow?.release();
    for (const u of [...ups.values(), slow]) if (u) await closeServer(u.server);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  // routes.test.ts's table, each case on a host of its own, all in one config.
  const table: [string, RulePath[], string, string | undefined][] = [
    ['Prefix /', [{ path: '/', to: 'root' }], '/anything/at/all', 'root'],
    ['Exact /foo, request /foo', [{ path: '/foo', type: 'Exact', to: 'foo' }], '/foo', 'foo'],
    ['Exact /foo, request /bar', [{ path: '/foo', type: 'Exact', to: 'foo' }], '/bar', undefined],
    ['Exact /foo, request /foo/', [{ path: '/foo', type: 'Exact', to: 'foo' }], '/foo/', undefined],
    ['Exact /foo/, request /foo', [{ path: '/foo/', type: 'Exact', to: 'foo' }], '/foo', undefined],
    ['Prefix /foo, request /foo', [{ path: '/foo', to: 'foo' }], '/foo', 'foo'],
    ['Prefix /foo, request /foo/', [{ path: '/foo', to: 'foo' }], '/foo/', 'foo'],
    ['Prefix /foo/, request /foo', [{ path: '/foo/', to: 'foo' }], '/foo', 'foo'],
    ['Prefix /foo/, request /foo/', [{ path: '/foo/', to: 'foo' }], '/foo/', 'foo'],
    ['Prefix /aaa/bb, request /aaa/bbb', [{ path: '/aaa/bb', to: 'aaa' }], '/aaa/bbb', undefined],
    ['Prefix /aaa/bbb, request /aaa/bbb', [{ path: '/aaa/bbb', to: 'aaa' }], '/aaa/bbb', 'aaa'],
    ['Prefix /aaa/bbb/, request /aaa/bbb', [{ path: '/aaa/bbb/', to: 'aaa' }], '/aaa/bbb', 'aaa'],
    ['Prefix /aaa/bbb, request /aaa/bbb/', [{ path: '/aaa/bbb', to: 'aaa' }], '/aaa/bbb/', 'aaa'],
    ['Prefix /aaa/bbb, request /aaa/bbb/ccc', [{ path: '/aaa/bbb', to: 'aaa' }], '/aaa/bbb/ccc', 'aaa'],
    ['Prefix /aaa/bbb, request /aaa/bbbxyz', [{ path: '/aaa/bbb', to: 'aaa' }], '/aaa/bbbxyz', undefined],
    ['Prefix /aaa, request /ccc', [{ path: '/aaa', to: 'aaa' }], '/ccc', undefined],
    ['ImplementationSpecific /foo as Prefix', [{ path: '/foo', type: 'ImplementationSpecific', to: 'foo' }], '/foo/bar', 'foo'],
    ['longest: /aaa over /', [{ path: '/', to: 'root' }, { path: '/aaa', to: 'aaa' }], '/aaa/ccc', 'aaa'],
    ['longest: /aaa/bbb', [{ path: '/', to: 'root' }, { path: '/aaa', to: 'aaa' }, { path: '/aaa/bbb', to: 'bbb' }], '/aaa/bbb', 'bbb'],
    ['longest: / for /ccc', [{ path: '/', to: 'root' }, { path: '/aaa', to: 'aaa' }, { path: '/aaa/bbb', to: 'bbb' }], '/ccc', 'root'],
    ['Exact over Prefix', [{ path: '/foo', to: 'prefix' }, { path: '/foo', type: 'Exact', to: 'exact' }], '/foo', 'exact'],
    ['Prefix below an Exact', [{ path: '/foo', type: 'Exact', to: 'exact' }, { path: '/foo', to: 'prefix' }], '/foo/x', 'prefix'],
    ['the query is ignored', [{ path: '/foo', type: 'Exact', to: 'foo' }], '/foo?a=b', 'foo'],
  ];

  it('matches paths as routes.test.ts\'s table says, and answers 404 with its text otherwise', async () => {
    await serve(...new Set(table.flatMap(([, ps]) => ps.map((p) => p.to ?? 'web'))));
    await route([ingress(table.map(([, paths], i) => ({ host: `case${i}.test`, paths })))]);
    const rt = new RouteTable([ingress(table.map(([, paths], i) => ({ host: `case${i}.test`, paths })))]);
    for (const [i, [name, , request, want]] of table.entries()) {
      const res = await get(port, request, { host: `case${i}.test` });
      // The in-process proxy's table and nginx agree, and both say what the case wants.
      expect([name, rt.match(`case${i}.test`, request)?.service]).toEqual([name, want]);
      if (want) expect([name, res.status, res.body]).toEqual([name, 200, `${want} GET ${request}`]);
      else expect([name, res.status, res.body]).toEqual([name, 404, 'no ingress rule matches this host and path\n']);
    }
  });

  it('picks an exact host, then a one-label wildcard, then the rules without a host; a host keeps its own rules', async () => {
    await serve('exact-host', 'wildcard', 'any', 'api', 'fallback');
    await route([ingress([
      { host: 'foo.bar.com', paths: [{ path: '/', to: 'exact-host' }, { path: '/api', to: 'api' }] },
      { host: '*.bar.com', paths: [{ path: '/only', to: 'wildcard' }] },
      { paths: [{ path: '/', to: 'any' }] },
    ], 'fallback')]);
    expect((await get(port, '/', { host: 'FOO.bar.com:8080' })).body).toBe('exact-host GET /');
    expect((await get(port, '/api/v1', { host: 'foo.bar.com' })).body).toBe('api GET /api/v1');
    expect((await get(port, '/only/x', { host: 'baz.bar.com' })).body).toBe('wildcard GET /only/x');
    expect((await get(port, '/web', { host: 'baz.bar.com' })).body).toBe('fallback GET /web');
    expect((await get(port, '/', { host: 'bar.com' })).body).toBe('any GET /');
    expect((await get(port, '/', { host: 'a.baz.bar.com' })).body).toBe('any GET /');
    expect((await get(port, '/', { host: 'other.org' })).body).toBe('any GET /');
  });

  it('forwards the resolved path, the body and X-Forwarded-*; answers 400 for a bad path', async () => {
    await serve('api', 'fallback');
    await route([ingress([{ paths: [{ path: '/api', to: 'api' }, { path: '/a%20b', type: 'Exact', to: 'api' }] }], 'fallback')]);
    expect((await get(port, '/a%20b', { host: 'elsewhere.org' })).body).toBe('api GET /a%20b');
    expect((await get(port, '/api/../apix', { host: 'elsewhere.org' })).body).toBe('fallback GET /apix');
    expect((await get(port, '/apix/%2e%2e/api/./v1?q=/../', { host: 'elsewhere.org' })).body).toBe('api GET /api/v1?q=/../');
    expect((await get(port, '/api/%zz', { host: 'elsewhere.org' })).status).toBe(400);
    const res = await get(port, '/api/post', { host: 'elsewhere.org', method: 'POST', body: 'hello', headers: { 'x-forwarded-for': '10.1.1.1' } });
    expect(res.body).toBe('api POST /api/post hello');
    expect(JSON.parse(String(res.headers['x-seen']))).toEqual({ xff: '10.1.1.1, 127.0.0.1', xfh: 'elsewhere.org', xfp: 'http', host: 'elsewhere.org' });
  });

  it('answers 503 naming a missing or empty service, 502 when the endpoints refuse, 504 when one is silent', async () => {
    const closed = await upstream('x', '127.0.0.6');
    await closeServer(closed.server);
    source.setService('default', 'unready', [{ port: 80, targetPort: 1 }], [{ ip: '127.0.0.2', ready: false }]);
    source.setService('default', 'dead', [{ port: 80, targetPort: closed.port }], [{ ip: '127.0.0.6' }]);
    await route([ingress([{ paths: [
      { path: '/gone', to: 'nope' }, { path: '/unready', to: 'unready' }, { path: '/dead', to: 'dead' }, { path: '/', to: 'svc-slow' },
    ] }])]);
    expect(await get(port, '/gone')).toMatchObject({ status: 503, body: 'service "default/nope" not found\n' });
    expect(await get(port, '/unready')).toMatchObject({ status: 503, body: 'service "default/unready" has no ready endpoints\n' });
    expect(await get(port, '/dead')).toMatchObject({ status: 502, body: 'upstream failed\n' });
    expect(await get(port, '/silent')).toMatchObject({ status: 504, body: 'upstream timed out\n' });
  });

  it('follows endpoint changes: a service that gets a ready endpoint is served', async () => {
    await serve('later');
    source.setService('default', 'later-svc', [{ port: 80, targetPort: 1 }], []);
    await route([ingress([{ paths: [{ path: '/', to: 'later-svc' }] }])]);
    expect((await get(port, '/x')).status).toBe(503);
    source.setService('default', 'later-svc', [{ port: 80, targetPort: ups.get('later')!.port }], [{ ip: '127.0.0.2' }]);
    await proxy.settled();
    expect((await get(port, '/x')).body).toBe('later GET /x');
  });

  it('spreads requests over the ready endpoints, passing over one that refuses', async () => {
    // Both answer on one port number (a slice port is one number): 127.0.0.2 and 127.0.0.3.
    const b = await upstream('rr-b', '127.0.0.3');
    const a = await new Promise<http.Server>((resolve) => {
      const s = http.createServer((_q, r) => r.end('rr-a')).listen(b.port, '127.0.0.2', () => resolve(s));
    });
    try {
      source.setService('default', 'rr', [{ port: 80, targetPort: b.port }], [{ ip: '127.0.0.2' }, { ip: '127.0.0.3' }, { ip: '127.0.0.5', ready: false }]);
      await route([ingress([{ host: 'rr.com', paths: [{ path: '/', to: 'rr' }] }])]);
      const bodies = await Promise.all([0, 1, 2, 3].map(async () => (await get(port, '/', { host: 'rr.com' })).body));
      expect(bodies.filter((x) => x === 'rr-a')).toHaveLength(2);
      expect(bodies.filter((x) => x.startsWith('rr-b'))).toHaveLength(2);
      // 127.0.0.6 listens on nothing: its requests go to the other endpoint.
      source.setService('default', 'rr', [{ port: 80, targetPort: b.port }], [{ ip: '127.0.0.6' }, { ip: '127.0.0.3' }]);
      await proxy.settled();
      const ok = await Promise.all([0, 1, 2, 3].map(() => get(port, '/r', { host: 'rr.com' })));
      expect(ok.map((r) => [r.status, r.body])).toEqual(Array(4).fill([200, 'rr-b GET /r']));
    } finally {
      await closeServer(a);
      await closeServer(b.server);
    }
  });

  it('passes a websocket upgrade through both ways', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.7', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    wss.on('connection', (ws, req) => ws.on('message', (m) => ws.send(`echo ${String(m)} from ${req.url} host ${req.headers.host}`)));
    try {
      source.setService('default', 'svc-ws', [{ port: 80, targetPort: (wss.address() as AddressInfo).port }], [{ ip: '127.0.0.7' }]);
      await route([ingress([{ host: 'ws.com', paths: [{ path: '/ws', to: 'svc-ws' }] }])]);
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/chat`, { headers: { host: 'ws.com' } });
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

  it('finishes a slow request in flight across a reload, and coalesces a burst of changes into few reloads', async () => {
    await serve('a', 'b');
    await route([ingress([{ host: 'slow.com', paths: [{ path: '/', to: 'svc-slow' }] }, { host: 'ka.com', paths: [{ path: '/', to: 'a' }] }])]);
    const pending = get(port, '/slow', { host: 'slow.com' });
    const hitsBefore = slow.hits;
    await until('the slow request to reach its upstream', () => (slow.hits > hitsBefore ? true : undefined));
    const reloadsBefore = proxy.reloads();
    for (let i = 0; i < 20; i++) proxy.setRoutes(new RouteTable([ingress([{ host: 'ka.com', paths: [{ path: '/', to: i % 2 ? 'a' : 'b' }] }])]));
    await proxy.settled();
    expect(proxy.reloads() - reloadsBefore).toBeLessThanOrEqual(2);
    expect((await get(port, '/two', { host: 'ka.com' })).body).toBe('a GET /two');
    expect((await get(port, '/slow', { host: 'slow.com' })).status).toBe(404);
    slow.release();
    expect(await pending).toMatchObject({ status: 200, body: 'slow GET /slow' });
  });

  it('restarts nginx when it dies', async () => {
    await serve('a');
    await route([ingress([{ paths: [{ path: '/', to: 'a' }] }])]);
    const before = proxy.pid()!;
    process.kill(before, 'SIGKILL');
    await until('nginx to be restarted', () => { const p = proxy.pid(); return p && p !== before ? p : undefined; }, 20_000);
    await until('the restarted nginx to answer', async () => ((await get(port, '/r').catch(() => undefined))?.body === 'a GET /r' ? true : undefined), 20_000);
  });
});

describeNginx('a start that fails', () => {
  it('throws with nginx\'s error when the port is taken, and leaves no nginx behind', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-nginx-taken-'));
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    try {
      const port = (taken.address() as AddressInfo).port;
      await expect(startNginxProxy({ source: new FakeServiceNetworkSource(), port, host: '127.0.0.1', dir }))
        .rejects.toThrow(/nginx exited at start: .*Address already in use/);
      // No restart follows a start that never came up: still no master after a restart's first delay.
      await new Promise((r) => setTimeout(r, 400));
      const masters = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).filter((e) => {
        try { return fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(dir); } catch { return false; }
      });
      expect(masters).toEqual([]);
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeNginx('a master an earlier run left', () => {
  it('is stopped by the next start, which then serves', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-nginx-left-'));
    const port = await freePort();
    fs.mkdirSync(path.join(dir, 'tmp'));
    const conf = path.join(dir, 'nginx.conf');
    const source = new FakeServiceNetworkSource();
    fs.writeFileSync(conf, nginxConfig({ routes: new RouteTable([]), upstreams: () => [], dir, port, host: '127.0.0.1' }).text);
    // As a node agent killed with SIGKILL leaves it: a master running on its own, its pid in the file.
    const left = spawn(NGINX!, ['-p', `${dir}/`, '-c', conf, '-e', path.join(dir, 'error.log')], { stdio: 'ignore', detached: true });
    left.unref();
    let proxy: NginxProxy | undefined;
    try {
      await until('the left master to write its pid', () => (fs.existsSync(path.join(dir, 'nginx.pid')) ? true : undefined));
      const up = await upstream('new', '127.0.0.2');
      try {
        source.setService('default', 'svc', [{ port: 80, targetPort: up.port }], [{ ip: up.ip }]);
        proxy = await startNginxProxy({ source, port, host: '127.0.0.1', dir });
        expect(() => process.kill(left.pid!, 0)).toThrow();
        proxy.setRoutes(new RouteTable([ingress([{ paths: [{ path: '/', to: 'svc' }] }])]));
        await proxy.settled();
        expect((await get(port, '/x')).body).toBe('new GET /x');
      } finally {
        await proxy?.stop();
        await closeServer(up.server);
      }
      expect(() => process.kill(proxy!.pid() ?? left.pid!, 0)).toThrow();
    } finally {
      try { process.kill(left.pid!, 'SIGKILL'); } catch { /* stopped */ }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
