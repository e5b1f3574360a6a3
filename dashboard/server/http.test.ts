import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { httpHandler, resolveStatic, Sessions } from './http';

describe('resolveStatic', () => {
  const root = '/srv/web';
  it('maps paths under the root, and index.html for folders', () => {
    expect(resolveStatic(root, '/')).toBe('/srv/web/index.html');
    expect(resolveStatic(root, '/app.js?v=1')).toBe('/srv/web/app.js');
    expect(resolveStatic(root, '/a/../b.css')).toBe('/srv/web/b.css');
  });
  it('never leaves the root', () => {
    for (const p of ['/../etc/passwd', '/%2e%2e/etc/passwd', '/..%2f..%2fetc/passwd', '/a/%00', '/%E0%A4%A']) {
      const f = resolveStatic(root, p);
      expect(f === undefined || f.startsWith('/srv/web/')).toBe(true);
    }
    expect(resolveStatic(root, '/%2e%2e/%2e%2e/etc/passwd')).not.toBe('/etc/passwd');
  });
});

describe('httpHandler', () => {
  let dir: string;
  let server: http.Server;
  let base: string;
  const redeemed: string[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-dash-http-'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><p>hi</p>');
    fs.writeFileSync(path.join(dir, 'app.js'), 'console.log(1)');
    fs.writeFileSync(path.join(path.dirname(dir), `${path.basename(dir)}-secret.txt`), 'secret');
    server = http.createServer(httpHandler({
      webRoot: dir, sessions: new Sessions(), healthy: () => true,
      redeem: async (t) => { if (redeemed.includes(t) || t !== 'good-token-aaaaaaaa') return false; redeemed.push(t); return true; },
    }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(`${dir}-secret.txt`, { force: true });
  });

  it('serves files with their content type, and nothing outside the root', async () => {
    const page = await fetch(`${base}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect((await fetch(`${base}/app.js`)).headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${base}/missing.js`)).status).toBe(404);
    const escape = await fetch(`${base}/..%2f${path.basename(dir)}-secret.txt`);
    expect(await escape.text()).not.toContain('secret');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('trades a good token for an HttpOnly SameSite=Strict cookie, once', async () => {
    const post = (body: string) => fetch(`${base}/session`, { method: 'POST', body });
    expect((await post('nope')).status).toBe(400);
    const ok = await post(JSON.stringify({ token: 'good-token-aaaaaaaa' }));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('set-cookie')).toMatch(/^mk_session=[\w-]+; HttpOnly; SameSite=Strict; Path=\//);
    expect((await post(JSON.stringify({ token: 'good-token-aaaaaaaa' }))).status).toBe(403);
    expect((await fetch(`${base}/session`)).status).toBe(405);
  });
});
