/**
 * Ingresses end to end against a real nats-server and control plane: `mk apply` of an Ingress,
 * its status (the InternalIP of the Ready nodes), `mk get ingress` in kubectl's columns,
 * `mk describe ingress` with the Warning about a missing service, bad input refused with the
 * problem named, and a node's ingress proxy (in this process, on loopback) routing by the stored
 * Ingress to a real HTTP server through Services and EndpointSlices read from the store.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { ControlPlane } from '../../../actors';
import { ObjectStore, type Bus } from '../../../bus';
import { objectKey, resolveKind, type Ingress, type Node } from '../../../messages';
import { startNodeIngress, type NodeIngress } from '../../../node-agent/ingress';
import { watchServiceNetwork, type ServiceNetworkView } from '../../../node-agent/service-network/view';
import { fakeNode, putNode } from '../../helpers/fake-nodes';
import type { NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';
import { startCliCluster, stopCliCluster } from './cli-cluster';
import { runCli, type CliResult } from './run-cli';

jest.setTimeout(180_000);

let server: NatsServer;
let cp: ControlPlane;
let bus: Bus;
let store: ObjectStore;
let dir: string;
let upstream: http.Server;
let source: ServiceNetworkView | undefined;
let ingress: NodeIngress | undefined;

const mk = (args: string[]): Promise<CliResult> => runCli(args, { env: { MK_HOME: dir }, timeoutMs: 60_000 });
const ING = (name: string, body: string) => `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: ${name}\nspec:\n${body}`;
const apply = (file: string, text: string) => {
  fs.writeFileSync(path.join(dir, file), text);
  return mk(['apply', '-f', path.join(dir, file)]);
};

/** A Node with an InternalIP, Ready or not. */
function node(name: string, ip: string, ready: boolean): Node {
  const n = fakeNode(name);
  n.status = { ...n.status, addresses: [{ type: 'InternalIP', address: ip }] };
  if (!ready) n.status.conditions = [{ type: 'Ready', status: 'False', lastHeartbeatTime: new Date(Date.now() + 3600_000).toISOString() }];
  return n;
}

/** A GET through the node's proxy. */
function get(p: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: ingress!.port, path: p, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

beforeAll(async () => {
  ({ server, cp, bus, store, dir } = await startCliCluster('ingress'));
  // The node lifecycle keeps what the server set: addresses are written once the nodes exist.
  for (const [n, ip, ready] of [['n1', '10.0.0.11', true], ['n2', '10.0.0.12', true], ['n3', '10.0.0.13', false]] as const) {
    await putNode(store, node(n, ip, ready));
    const key = objectKey('nodes', undefined, n);
    const cur = (await store.get<Node>(key))!;
    await store.update(key, { ...cur.object, status: node(n, ip, ready).status }, cur.revision);
  }
  upstream = http.createServer((req, res) => res.end(`web ${req.url} via ${String(req.headers['x-forwarded-host'])}`));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.2', r));
  const port = (upstream.address() as AddressInfo).port;
  // The Service and its EndpointSlice as their controllers would write them.
  await store.create(objectKey('services', 'default', 'web'), {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' },
    spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, targetPort: port }], selector: { app: 'web' } },
  });
  await store.create(objectKey('endpointslices', 'default', 'web-x1'), {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: 'web-x1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4', ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: [{ addresses: ['127.0.0.2'], conditions: { ready: true } }],
  });
  source = await watchServiceNetwork({ store, log: console, allowLoopbackEndpoints: true });
  ingress = await startNodeIngress({ store, source, port: 0, host: '127.0.0.1' });
}, 300_000);

afterAll(async () => {
  await ingress?.stop();
  await source?.stop();
  await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
  await stopCliCluster({ cp, bus, server, dir });
});

it('applies an Ingress, reports the Ready nodes\' addresses and prints kubectl\'s columns', async () => {
  const body = '  ingressClassName: mk\n  tls:\n    - hosts: [web.example.com]\n      secretName: web-tls\n'
    + '  rules:\n    - host: web.example.com\n      http:\n        paths:\n'
    + '          - path: /\n            pathType: Prefix\n            backend:\n              service:\n                name: web\n                port:\n                  name: http\n'
    + '          - path: /old\n            pathType: Exact\n            backend:\n              service:\n                name: gone\n                port:\n                  number: 80\n';
  expect(await apply('web.yaml', ING('web', body))).toEqual({ code: 0, stdout: 'ingress.networking.k8s.io/web created\n', stderr: '' });
  await until('the addresses in the status', async () => {
    const got = await store.get<Ingress>(objectKey('ingresses', 'default', 'web'));
    return got?.object.status?.loadBalancer?.ingress?.length === 2 ? got : undefined;
  }, 30_000);
  const table = await mk(['get', 'ing']);
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(/^NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE\nweb\s+mk\s+web\.example\.com\s+10\.0\.0\.11,10\.0\.0\.12\s+80, 443\s+\S+\n$/);
  const json = JSON.parse((await mk(['get', 'ingress', 'web', '-o', 'json'])).stdout) as Ingress;
  expect(json.status?.loadBalancer?.ingress).toEqual([{ ip: '10.0.0.11' }, { ip: '10.0.0.12' }]);
});

it('routes through the node\'s proxy by the stored Ingress, and answers 503 for the missing service', async () => {
  await until('the proxy routes web.example.com', async () => ((await get('/hello', 'web.example.com')).status === 200 ? true : undefined), 30_000);
  expect(await get('/hello', 'web.example.com')).toEqual({ status: 200, body: 'web /hello via web.example.com' });
  expect(await get('/old', 'web.example.com')).toMatchObject({ status: 503, body: expect.stringMatching(/service "default\/gone" not found/) });
  expect((await get('/', 'other.example.com')).status).toBe(404);
});

it('describes the Ingress with its endpoints and a Warning naming the missing service', async () => {
  const out = await until('the warning event', async () => {
    const d = await mk(['describe', 'ingress', 'web']);
    return /ServiceNotFound/.test(d.stdout) ? d : undefined;
  }, 30_000);
  expect(out.code).toBe(0);
  expect(out.stdout).toMatch(/^Address: +10\.0\.0\.11,10\.0\.0\.12$/m);
  // The endpoints come from the api's lists of Services and EndpointSlices, where those kinds are served.
  const served = !!resolveKind('services') && !!resolveKind('endpointslices');
  expect(out.stdout).toMatch(served ? /^ +\/ +web:http \(127\.0\.0\.2:\d+\)$/m : /^ +\/ +web:http \(<error: services "web" not found>\)$/m);
  expect(out.stdout).toMatch(/^ +\/old +gone:80 \(<error: services "gone" not found>\)$/m);
  expect(out.stdout).toMatch(/Warning +ServiceNotFound +\S+ +ingress-controller +service "default\/gone" not found/);
});

it('follows node readiness in the addresses', async () => {
  const key = objectKey('nodes', undefined, 'n3');
  const cur = (await store.get<Node>(key))!;
  await store.update(key, { ...cur.object, status: node('n3', '10.0.0.13', true).status }, cur.revision);
  await until('n3 in the addresses', async () => {
    const got = await store.get<Ingress>(objectKey('ingresses', 'default', 'web'));
    return got?.object.status?.loadBalancer?.ingress?.length === 3 ? got : undefined;
  }, 30_000);
});

it('stops routing a deleted Ingress', async () => {
  expect((await mk(['delete', 'ingress', 'web'])).code).toBe(0);
  await until('404 once deleted', async () => ((await get('/hello', 'web.example.com')).status === 404 ? true : undefined), 30_000);
});

it('refuses bad input with exit 1 and the problem named, creating nothing', async () => {
  const path1 = '  rules:\n    - http:\n        paths:\n          - path: api\n            pathType: Prefix\n'
    + '            backend:\n              service:\n                name: web\n                port:\n                  number: 80\n';
  const r1 = await apply('bad1.yaml', ING('bad1', path1));
  expect(r1.code).toBe(1);
  expect(r1.stderr).toMatch(/spec\.rules\[0\]\.http\.paths\[0\]\.path: Invalid value: "api": must be an absolute path/);
  const r2 = await apply('bad2.yaml', ING('bad2', path1.replace('path: api', 'path: /api').replace('Prefix', 'Regex')));
  expect(r2.code).toBe(1);
  expect(r2.stderr).toMatch(/pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"/);
  const r3 = await apply('bad3.yaml', ING('bad3', '  defaultBackend:\n    service:\n      name: web\n'));
  expect(r3.code).toBe(1);
  expect(r3.stderr).toMatch(/spec\.defaultBackend\.service\.port: Required value: port name or number is required/);
  const list = await mk(['get', 'ingresses']);
  expect(list).toMatchObject({ code: 0, stdout: '' });
});
