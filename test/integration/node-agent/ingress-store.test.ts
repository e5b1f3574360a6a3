/**
 * The node's ingress fed from a real objects bucket, served by either proxy (the in-process one
 * and nginx; nginx's case is skipped, saying so, where it is not installed): a malformed Ingress
 * in the store (one that never came through the API) is left out of the routes, the node agent
 * keeps serving, and a valid one is served.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectBus, ObjectStore, type Bus } from '../../../bus';
import { setLogLevel } from '../../../common/log';
import { FakeServiceNetworkSource } from '../../../node-agent/ingress/fake-source';
import { findNginx, startChosenIngress, type IngressProxyMode, type NodeIngress } from '../../../node-agent/ingress';
import { startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';

let server: NatsServer;
let bus: Bus;
let store: ObjectStore;
let ingress: NodeIngress | undefined;
let dataDir: string;
let backend: http.Server;
let backendPort: number;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function get(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/x', headers: { host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

beforeAll(async () => {
  setLogLevel('silent');
  server = await startNatsServer();
  bus = await connectBus({ servers: server.url, name: 'ingress-store-test' });
  store = await ObjectStore.open(bus);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-ingress-store-'));
  backend = http.createServer((req, res) => res.end(`web ${req.url}`));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.2', r));
  backendPort = (backend.address() as net.AddressInfo).port;
});

afterEach(async () => {
  await ingress?.stop();
  ingress = undefined;
  for (const k of ['ingresses.default.broken', 'ingresses.default.web']) await store.delete(k).catch(() => undefined);
});

afterAll(async () => {
  backend?.closeAllConnections();
  await new Promise<void>((r) => (backend ? backend.close(() => r()) : r()));
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  await bus?.close();
  await server?.stop();
});

const NGINX = findNginx();
if (!NGINX) console.warn('nginx is not installed: the nginx case of the ingress store test is skipped');
describe.each<[IngressProxyMode, boolean]>([['builtin', true], ['nginx', NGINX !== undefined]])('served by %s', (mode, present) => {
(present ? it : it.skip)('leaves a malformed stored Ingress out with a warning, and routes the valid ones', async () => {
  const warnings: { problem?: string; key?: string }[] = [];
  await store.put('ingresses.default.broken', { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'broken', namespace: 'default' }, spec: { rules: 'all' } });
  const log = {
    warn: (o: object) => { warnings.push(o as { problem?: string; key?: string }); },
    debug: () => undefined, info: () => undefined, error: () => undefined,
  };
  const source = new FakeServiceNetworkSource();
  source.setService('default', 'web', [{ port: 80, targetPort: backendPort }], [{ ip: '127.0.0.2' }]);
  const port = mode === 'nginx' ? await freePort() : 0;
  ingress = await startChosenIngress({ mode, dataDir, store, source, port, host: '127.0.0.1', log: log as never });
  expect(warnings).toEqual([expect.objectContaining({ key: 'ingresses.default.broken', problem: 'spec.rules is not a list' })]);
  await store.put('ingresses.default.web', {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'default' },
    spec: { rules: [{ host: 'a.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
  });
  await until('the valid Ingress routed', () => (ingress!.routes().match('a.com', '/')?.service === 'web' ? true : undefined), 10_000);
  expect(ingress.routes().size).toBe(1);
  const port2 = ingress.port;
  await until('a.com served', async () => ((await get(port2, 'a.com')).body === 'web /x' ? true : undefined), 10_000);
  expect(await get(port2, 'b.com')).toEqual({ status: 404, body: 'no ingress rule matches this host and path\n' });
});
});
