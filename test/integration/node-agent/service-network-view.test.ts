/**
 * The node's view of Services and EndpointSlices (node-agent/service-network/view.ts) as a node
 * identity, with the credentials and permissions `mk up` writes, on a real nats-server: it lists
 * and follows both prefixes, leaves malformed objects out without stopping, and nothing else of the
 * objects bucket is readable to it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectBus, ObjectStore, type Bus } from '../../../bus';
import { setLogLevel } from '../../../common/log';
import { natsConfig, prepareClusterFiles, type Credentials } from '../../../embedded/credentials';
import { clusterPaths } from '../../../embedded/paths';
import { findNatsServer, waitForPort } from '../../../embedded/supervise';
import { tlsPaths } from '../../../embedded/tls';
import { isForbidden, objectKey } from '../../../messages';
import { watchServiceNetwork, type ServiceNetworkView } from '../../../node-agent/service-network/view';
import type { ServiceNetworkChange } from '../../../node-agent/service-network/types';
import { caught, terminate } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';

jest.setTimeout(30_000);

let dir: string;
let creds: Credentials;
let caFile: string;
let server: ChildProcess;
const buses: Bus[] = [];
let objects: ObjectStore;
let view: ServiceNetworkView | undefined;
const warnings: object[] = [];

const freePort = (): Promise<number> => new Promise((resolve) => {
  const srv = net.createServer().listen(0, '127.0.0.1', () => {
    const p = (srv.address() as net.AddressInfo).port;
    srv.close(() => resolve(p));
  });
});

const connectAs = async (user: string): Promise<Bus> => {
  const bus = await connectBus({ servers: `nats://127.0.0.1:${creds.port}`, user, pass: creds.users[user], name: `test-${user}`, timeoutMs: 3000, caFile });
  buses.push(bus);
  return bus;
};

const service = (name: string, clusterIP: string) => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
  spec: { type: 'ClusterIP', clusterIP, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], selector: { app: name } },
});
const slice = (name: string, service: string, ips: string[]) => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
  metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
  endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true }, nodeName: 'n1' })),
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
});

beforeAll(async () => {
  setLogLevel('silent');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-svcnet-it-'));
  const paths = clusterPaths(dir);
  creds = prepareClusterFiles(paths, { nodeName: 'n1', port: await freePort() });
  caFile = tlsPaths(dir).caCert;
  fs.writeFileSync(paths.natsConf, natsConfig(paths, creds));
  server = spawn(findNatsServer()!, ['-c', paths.natsConf], { stdio: 'ignore' });
  await waitForPort(creds.port, 15_000);
  objects = await ObjectStore.open(await connectAs('control-plane'));
  await objects.create(objectKey('services', 'default', 'web'), service('web', '10.96.0.10'));
  await objects.create(objectKey('endpointslices', 'default', 'web-a'), slice('web-a', 'web', ['10.244.1.2']));
  await objects.create(objectKey('services', 'default', 'broken'), { metadata: { name: 'broken' }, spec: { ports: [{ port: 'eighty' }] } });
  await objects.create(objectKey('secrets', 'default', 'token'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token', namespace: 'default' } });
});

afterAll(async () => {
  await view?.stop();
  await Promise.all(buses.map((b) => b.close()));
  if (server) await terminate(server);
  fs.rmSync(dir, { recursive: true, force: true });
  setLogLevel('info');
});

describe('the service network view of a node', () => {
  it('lists Services and their slices, leaving a malformed one out', async () => {
    const store = await ObjectStore.open(await connectAs('node-n1'), { create: false });
    view = await watchServiceNetwork({ store, log: { warn: (o) => { warnings.push(o); } } });
    expect(view.services().map((s) => s.metadata.name)).toEqual(['web']);
    expect(view.service('default', 'web')?.spec.clusterIP).toBe('10.96.0.10');
    expect(view.slicesOf('default', 'web').map((s) => s.endpoints?.map((e) => e.addresses[0]))).toEqual([['10.244.1.2']]);
    expect(view.slicesOf('default', 'nothing')).toEqual([]);
    expect(warnings).toEqual([expect.objectContaining({ key: objectKey('services', 'default', 'broken'), problem: 'spec.ports[0].port is not a port number' })]);
  });

  it('follows changes of services and slices and tells its listeners', async () => {
    const heard: ServiceNetworkChange[] = [];
    const unlisten = view!.onChange((c) => heard.push(c));
    await objects.create(objectKey('endpointslices', 'default', 'web-b'), slice('web-b', 'web', ['10.244.1.3']));
    await until('the second slice', () => view!.slicesOf('default', 'web').length === 2 || undefined, 10_000);
    await objects.put(objectKey('services', 'default', 'broken'), service('broken', '10.96.0.12'));
    await until('the repaired service', () => view!.service('default', 'broken') !== undefined || undefined, 10_000);
    await objects.delete(objectKey('endpointslices', 'default', 'web-a'));
    await until('the deleted slice gone', () => view!.slicesOf('default', 'web').length === 1 || undefined, 10_000);
    // A slice that becomes malformed leaves the view; the watch goes on.
    await objects.put(objectKey('endpointslices', 'default', 'web-b'), { ...slice('web-b', 'web', []), endpoints: [{ addresses: ['not-an-ip'] }] });
    await until('the malformed slice gone', () => view!.slicesOf('default', 'web').length === 0 || undefined, 10_000);
    await objects.delete(objectKey('services', 'default', 'web'));
    await until('the deleted service gone', () => view!.service('default', 'web') === undefined || undefined, 10_000);
    unlisten();
    expect(heard).toEqual([
      { namespace: 'default', service: 'web' }, { namespace: 'default', service: 'broken' },
      { namespace: 'default', service: 'web' }, { namespace: 'default', service: 'web' }, { namespace: 'default', service: 'web' },
    ]);
  });

  it('cannot read the rest of the objects bucket', async () => {
    const store = await ObjectStore.open(await connectAs('node-n1'), { create: false });
    expect(isForbidden(await caught(store.list('secrets.>')))).toBe(true);
    expect(isForbidden(await caught(store.list('>')))).toBe(true);
    expect(isForbidden(await caught(store.put(objectKey('services', 'default', 'forged'), service('forged', '10.96.0.99'))))).toBe(true);
  });
});
