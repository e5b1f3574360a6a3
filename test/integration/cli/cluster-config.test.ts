/**
 * The nats-server config `mk up` generates, run by a real nats-server: authentication is required,
 * JetStream works for the admin, and a node's user is confined to its own node's subjects.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { busLog, connectBus, request, serve, type Bus } from '../../../bus';
import { prepareClusterFiles, type Credentials } from '../../../embedded/credentials';
import { clusterPaths } from '../../../embedded/paths';
import { findNatsServer, waitForPort } from '../../../embedded/supervise';
import { nodeSubject } from '../../../messages';

jest.setTimeout(30_000);

let dir: string;
let creds: Credentials;
let server: ChildProcess;
const buses: Bus[] = [];

const freePort = (): Promise<number> => new Promise((resolve) => {
  const srv = net.createServer().listen(0, '127.0.0.1', () => {
    const p = (srv.address() as net.AddressInfo).port;
    srv.close(() => resolve(p));
  });
});

const connectAs = async (user: string, pass = creds.users[user]): Promise<Bus> => {
  const bus = await connectBus({ servers: `nats://127.0.0.1:${creds.port}`, user, pass, name: `test-${user}`, timeoutMs: 3000 });
  buses.push(bus);
  return bus;
};

beforeAll(async () => {
  busLog.level = 'silent'; // the permission violations below are expected
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-conf-it-'));
  const paths = clusterPaths(dir);
  creds = prepareClusterFiles(paths, { nodeName: 'n1', port: await freePort() });
  server = spawn(findNatsServer()!, ['-c', paths.natsConf], { stdio: 'ignore' });
  await waitForPort(creds.port, 15_000);
});

afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
  if (server?.pid && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    process.kill(server.pid, 'SIGTERM');
    await exited;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

it('lets the admin in, with JetStream, and keeps out wrong or missing credentials', async () => {
  const admin = await connectAs('admin');
  expect(await admin.jsm.getAccountInfo()).toHaveProperty('streams');
  await expect(connectAs('admin', 'wrong-password')).rejects.toThrow(/authorization failed/i);
  await expect(connectBus({ servers: `nats://127.0.0.1:${creds.port}`, name: 'anon', timeoutMs: 2000 })).rejects.toThrow(/authoriz/i);
});

it('lets a node serve its own subjects for the admin', async () => {
  const node = await connectAs('node-n1');
  const admin = await connectAs('admin');
  const served = serve(node, nodeSubject('n1', 'ping'), async () => ({ node: 'n1' }));
  await node.nc.flush();
  expect(await request(admin, nodeSubject('n1', 'ping'), {})).toEqual({ node: 'n1' });
  await served.stop();
});

it('does not let a node listen on another node\'s subjects or send it requests', async () => {
  const node = await connectAs('node-n1');
  const denied = new Promise<Error>((resolve) => {
    node.nc.subscribe(nodeSubject('n2', 'exec'), { callback: (err) => { if (err) resolve(err); } });
  });
  await node.nc.flush();
  expect(String(await denied)).toMatch(/permission/i);
  await expect(request(node, nodeSubject('n2', 'exec'), {}, { timeoutMs: 1000 })).rejects.toThrow(/permission|nothing is serving|no reply/i);
});
