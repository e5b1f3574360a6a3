/**
 * The dashboard as a cluster runs it: a spawned `mk control-plane` (the build) serves it on the
 * port kept in the data directory, with mk up's credentials, and `mk dashboard` prints its URL
 * with a single-use token that opens a write session (or, `--read-only`, without one).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { prepareClusterFiles } from '../../../embedded/credentials';
import { ensureDashboardPort } from '../../../embedded/dashboard';
import { clusterPaths } from '../../../embedded/paths';
import { findNatsServer, waitForPort } from '../../../embedded/supervise';
import { spawnControlPlane, type ControlPlaneProcess } from '../../helpers/control-planes';
import { terminate } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';
import { ensureBuilt, runCli } from '../cli/run-cli';

jest.setTimeout(300_000);

let dir: string;
let nats: ChildProcess;
let cp: ControlPlaneProcess;
let port: number;

const freePort = (): Promise<number> => new Promise((resolve) => {
  const srv = net.createServer().listen(0, '127.0.0.1', () => {
    const p = (srv.address() as net.AddressInfo).port;
    srv.close(() => resolve(p));
  });
});

beforeAll(async () => {
  ensureBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-dash-cp-'));
  const paths = clusterPaths(dir);
  const creds = prepareClusterFiles(paths, { nodeName: 'n1', port: await freePort() });
  port = await ensureDashboardPort(paths);
  nats = spawn(findNatsServer()!, ['-c', paths.natsConf], { stdio: 'ignore' });
  await waitForPort(creds.port, 15_000);
  cp = await spawnControlPlane(dir);
});

afterAll(async () => {
  await cp?.stop();
  if (nats) await terminate(nats);
  fs.rmSync(dir, { recursive: true, force: true });
});

it('serves the dashboard on the kept port, and mk dashboard prints a URL whose token works once', async () => {
  const base = `http://127.0.0.1:${port}/`;
  await until('the dashboard to answer /healthz', async () => ((await fetch(`${base}healthz`)).ok ? true : undefined), 30_000, 200);
  expect((await fetch(base)).status).toBe(200);

  const ro = await runCli(['dashboard', '--read-only', '--data-dir', dir]);
  expect(ro).toMatchObject({ code: 0, stdout: `${base}\n` });

  const rw = await runCli(['dashboard', '-o', 'json', '--data-dir', dir]);
  expect(rw.code).toBe(0);
  const out = JSON.parse(rw.stdout) as { url: string; writable: boolean; expiresAt: string };
  expect(out.writable).toBe(true);
  const token = new URL(out.url).searchParams.get('token')!;
  expect(out.url.startsWith(`${base}?token=`)).toBe(true);
  const post = () => fetch(`${base}session`, { method: 'POST', body: JSON.stringify({ token }) });
  expect((await post()).status).toBe(200);
  expect((await post()).status).toBe(403);

  const open = await runCli(['dashboard', '--read-only', '--open', '--data-dir', dir], { env: { PATH: '/nonexistent' } });
  expect(open.code).toBe(1);
  expect(open.stderr).toContain('xdg-open is not installed');
});
