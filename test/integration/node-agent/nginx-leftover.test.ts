/**
 * A node agent killed with SIGKILL leaves its nginx (the ingress proxy) running: a process of
 * the built code starts the nginx proxy and is killed; the next start on the same directory and
 * port stops that master and serves. Skipped (saying so) where nginx is not installed.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Ingress } from '../../../messages/ingress';
import { FakeServiceNetworkSource } from '../../../node-agent/ingress/fake-source';
import { findNginx, startNginxProxy, type NginxProxy } from '../../../node-agent/ingress/nginx';
import { RouteTable } from '../../../node-agent/ingress/routes';
import { ensureBuilt, ROOT } from '../cli/run-cli';
import { until } from '../../helpers/wait';

jest.setTimeout(300_000);

const NGINX = findNginx();
if (!NGINX) console.warn('nginx is not installed: the leftover nginx test is skipped');
const itNginx = NGINX ? it : it.skip;

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const web: Ingress = {
  apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
} as Ingress;

itNginx('the next start stops the nginx a SIGKILLed node agent left, and serves', async () => {
  ensureBuilt();
  const built = path.join(ROOT, 'dist', 'node-agent', 'ingress', 'nginx.js');
  expect(fs.existsSync(built)).toBe(true);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-nginx-killed-'));
  const port = await freePort();
  const backend = http.createServer((req, res) => res.end(`web ${req.url}`));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.2', r));
  const backendPort = (backend.address() as net.AddressInfo).port;
  const script = `
const { startNginxProxy } = require(${JSON.stringify(built)});
const source = { services: () => [], service: () => undefined, slicesOf: () => [], onChange: () => () => {} };
startNginxProxy({ source, port: ${port}, host: '127.0.0.1', dir: ${JSON.stringify(dir)} })
  .then((p) => console.log('ready ' + p.pid()), (e) => { console.error(e); process.exit(1); });
setInterval(() => {}, 1000);`;
  const agent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let proxy: NginxProxy | undefined;
  let leftPid = 0;
  try {
    let out = '';
    agent.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    leftPid = await until('the first nginx to start', () => { const m = /ready (\d+)/.exec(out); return m ? Number(m[1]) : undefined; }, 30_000);
    agent.kill('SIGKILL');
    await until('the agent to be gone', () => (agent.exitCode !== null || agent.signalCode !== null ? true : undefined), 10_000);
    // What the kill leaves: nginx still running, still holding the port.
    expect(alive(leftPid)).toBe(true);
    const source = new FakeServiceNetworkSource();
    source.setService('default', 'web', [{ port: 80, targetPort: backendPort }], [{ ip: '127.0.0.2' }]);
    proxy = await startNginxProxy({ source, port, host: '127.0.0.1', dir });
    expect(alive(leftPid)).toBe(false);
    expect(proxy.pid()).not.toBe(leftPid);
    proxy.setRoutes(new RouteTable([web]));
    await proxy.settled();
    const body = await new Promise<string>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/x', agent: false }, (res) => {
        let b = '';
        res.on('data', (c: Buffer) => { b += c.toString(); });
        res.on('end', () => resolve(b));
      }).on('error', reject);
    });
    expect(body).toBe('web /x');
  } finally {
    await proxy?.stop();
    if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
    if (leftPid && alive(leftPid)) process.kill(leftPid, 'SIGKILL');
    backend.closeAllConnections();
    await new Promise<void>((r) => backend.close(() => r()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
