/**
 * Services against a real nats-server and an in-process control plane: cluster IPs and node ports
 * are allocated at admission (the apply's answer carries them) and never twice, also when two api
 * instances on their own connections, or two control planes, take 50 services at once, and
 * concurrent applies of one new service answer like serialized ones; chosen ones are honoured or
 * refused naming the holder; a delete gives them back for reuse at once; an update keeps them,
 * refuses a changed cluster IP and gives back a node port it drops; LoadBalancer services list
 * the Ready nodes' InternalIPs; and the controller's repair removes a leaked allocation key.
 */
import { connectBus, ObjectStore, request, type Bus } from '../../../bus';
import { runControlPlane, type ControlPlane } from '../../../actors';
import { create } from '../../../actors/api/writes';
import {
  isValidation, objectKey, SERVICE_ALLOCATIONS_BUCKET,
  type ApplyResult, type CreateResult, type GetResult, type KubeObject, type Node, type Service,
} from '../../../messages';
import { caught, startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';

jest.setTimeout(120_000);

let server: NatsServer;
let cp: ControlPlane;
let bus: Bus;
let store: ObjectStore;
let keys: ObjectStore;
const extra: Bus[] = [];

beforeAll(async () => {
  process.env.MK_SERVICE_REPAIR_PERIOD_MS = '300';
  process.env.MK_SERVICE_REPAIR_GRACE_MS = '1000';
  server = await startNatsServer();
  cp = await runControlPlane({ bus: { servers: server.url, name: 'cp-svc-test' } });
  bus = await connectBus({ servers: server.url, name: 'cp-svc-client' });
  store = await ObjectStore.open(bus);
  keys = await ObjectStore.open(bus, { bucket: SERVICE_ALLOCATIONS_BUCKET, history: 1 });
});
afterAll(async () => {
  delete process.env.MK_SERVICE_REPAIR_PERIOD_MS;
  delete process.env.MK_SERVICE_REPAIR_GRACE_MS;
  await cp?.stop();
  for (const b of extra) await b.close();
  await bus?.close();
  await server?.stop();
});

const api = <T>(verb: string, body: unknown) => request<T>(bus, `mk.api.${verb}`, body);
const svc = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec });
const apply = async (o: unknown) => (await api<ApplyResult>('apply', { object: o })).object as unknown as Service;
const getSvc = async (name: string) => (await api<GetResult>('get', { kind: 'services', name })).object as unknown as Service;
const keyList = async () => (await keys.list<{ name: string }>('>')).items;
const ipNum = (ip: string) => ip.split('.').reduce((n, p) => n * 256 + Number(p), 0);
// Chosen node ports and IPs below are in the lower bands (30000-30085, 10.96.0.1-10.96.1.0), which
// dynamic allocation uses only when the rest is full: no random pick takes them first.
const inCidr = (ip: string) => ipNum(ip) > ipNum('10.96.0.0') && ipNum(ip) < ipNum('10.112.0.0') - 1;

it('allocates a distinct cluster IP and distinct node ports to every service, in the apply\'s answer', async () => {
  const made = await Promise.all(Array.from({ length: 40 }, (_, i) => apply(svc(`many-${i}`, {
    type: i % 2 ? 'NodePort' : 'ClusterIP', selector: { app: 'x' }, ports: [{ name: 'a', port: 80 }, { name: 'b', port: 53, protocol: 'UDP' }],
  }))));
  const ips = made.map((s) => s.spec.clusterIP!);
  expect(new Set(ips).size).toBe(40);
  for (const s of made) {
    expect(inCidr(s.spec.clusterIP!)).toBe(true);
    expect(s.spec.clusterIPs).toEqual([s.spec.clusterIP]);
  }
  const nodePorts = made.filter((s) => s.spec.type === 'NodePort').flatMap((s) => s.spec.ports!.map((p) => `${p.nodePort}/${p.protocol}`));
  expect(nodePorts).toHaveLength(40);
  expect(new Set(nodePorts).size).toBe(40);
  for (const np of nodePorts) expect(Number(np.split('/')[0])).toBeGreaterThanOrEqual(30000);
  expect(made.filter((s) => s.spec.type === 'ClusterIP').every((s) => s.spec.ports!.every((p) => p.nodePort === undefined))).toBe(true);
  // What is stored is what was answered.
  expect((await getSvc('many-1')).spec).toEqual(made[1].spec);
  // 40 cluster IPs, and two node ports for each of the 20 NodePort services.
  expect((await keyList()).length).toBe(80);
});

it('never hands one IP or port to two services when two api instances create 50 at once', async () => {
  const ctxs = await Promise.all([0, 1].map(async (i) => {
    const b = await connectBus({ servers: server.url, name: `svc-api-${i}` });
    extra.push(b);
    return { store: await ObjectStore.open(b), bus: b };
  }));
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => create(ctxs[i % 2], {
    object: svc(`race-${i}`, { type: 'NodePort', ports: [{ port: 80 }] }),
  } as never) as Promise<CreateResult>));
  const made = results.map((r) => r.object as unknown as Service);
  expect(new Set(made.map((s) => s.spec.clusterIP)).size).toBe(50);
  expect(new Set(made.map((s) => s.spec.ports![0].nodePort)).size).toBe(50);
  // Both ask for one chosen IP and one chosen port: exactly one of each wins.
  const chosen = await Promise.allSettled([0, 1].map((i) => create(ctxs[i], { object: svc(`same-ip-${i}`, { ports: [{ port: 80 }], clusterIP: '10.96.0.77' }) } as never)));
  expect(chosen.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  const ports = await Promise.allSettled([0, 1].map((i) => create(ctxs[i], { object: svc(`same-port-${i}`, { type: 'NodePort', ports: [{ port: 80, nodePort: 30070 }] }) } as never)));
  expect(ports.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  const refused = ports.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  expect(String(refused.reason.message)).toContain('provided port is already allocated (to service default/same-port-');
});

it('never hands one IP or port twice when two control planes serve 50 applies at once', async () => {
  const second = await runControlPlane({ bus: { servers: server.url, name: 'cp-svc-test-2' } });
  try {
    // Both serve mk.api.* in one queue group: the requests are shared between them.
    const made = await Promise.all(Array.from({ length: 50 }, (_, i) => apply(svc(`pair-${i}`, { type: 'LoadBalancer', ports: [{ port: 443 }] }))));
    expect(new Set(made.map((s) => s.spec.clusterIP)).size).toBe(50);
    expect(new Set(made.map((s) => s.spec.ports![0].nodePort)).size).toBe(50);
  } finally {
    await second.stop();
  }
  const all = (await store.list<Service>('services.>')).items.map((i) => i.object);
  const ips = all.map((s) => s.spec.clusterIP).filter((ip) => ip && ip !== 'None');
  expect(new Set(ips).size).toBe(ips.length);
});

it('answers concurrent applies of one new service with a chosen IP like serialized ones', async () => {
  const m = svc('twice', { type: 'NodePort', clusterIP: '10.96.0.88', ports: [{ port: 80, nodePort: 30060 }] });
  const results = await Promise.all(Array.from({ length: 4 }, () => api<ApplyResult>('apply', { object: m })));
  expect(results.map((r) => r.result).sort()).toEqual(['created', 'unchanged', 'unchanged', 'unchanged']);
  expect(new Set(results.map((r) => (r.object as unknown as Service).metadata.uid)).size).toBe(1);
});

it('honours a chosen cluster IP and node port, and refuses ones taken or out of range, naming them', async () => {
  const first = await apply(svc('first', { type: 'NodePort', clusterIP: '10.96.0.50', ports: [{ port: 80, nodePort: 30050 }] }));
  expect(first.spec.clusterIP).toBe('10.96.0.50');
  expect(first.spec.ports![0].nodePort).toBe(30050);
  const taken = await caught(apply(svc('second', { clusterIP: '10.96.0.50', ports: [{ port: 80 }] })));
  expect(isValidation(taken)).toBe(true);
  expect((taken as Error).message).toBe('Service "second" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.50"]: failed to allocate IP 10.96.0.50: provided IP is already allocated (to service default/first)');
  const outside = await caught(apply(svc('second', { clusterIP: '10.0.0.1', ports: [{ port: 80 }] })));
  expect((outside as Error).message).toContain('the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12');
  const portTaken = await caught(apply(svc('second', { type: 'NodePort', ports: [{ port: 80, nodePort: 30050 }] })));
  expect((portTaken as Error).message).toContain('spec.ports[0].nodePort: Invalid value: 30050: provided port is already allocated (to service default/first)');
  const portOutside = await caught(apply(svc('second', { type: 'NodePort', ports: [{ port: 80, nodePort: 20000 }] })));
  expect((portOutside as Error).message).toContain('provided port is not in the valid range. The range of valid ports is 30000-32767');
  // The same port number over UDP is another port.
  expect((await apply(svc('udp', { type: 'NodePort', ports: [{ port: 53, protocol: 'UDP', nodePort: 30050 }] }))).spec.ports![0].nodePort).toBe(30050);
  // Nothing was written or left behind by the refusals.
  expect(await store.get(objectKey('services', 'default', 'second'))).toBeNull();
  expect((await keyList()).filter((k) => k.object.name === 'second')).toEqual([]);
});

it('gives a deleted service\'s IP and ports back for reuse at once', async () => {
  await api('delete', { kind: 'services', name: 'first' });
  const again = await apply(svc('reuse', { type: 'NodePort', clusterIP: '10.96.0.50', ports: [{ port: 80, nodePort: 30050 }] }));
  expect(again.spec.clusterIP).toBe('10.96.0.50');
  expect(again.spec.ports![0].nodePort).toBe(30050);
  const owners = (await keyList()).filter((k) => k.key === 'clusterip.10-96-0-50' || k.key === 'nodeport.tcp.30050').map((k) => k.object.name);
  expect(owners).toEqual(['reuse', 'reuse']);
});

it('allocates a health check node port to a Local LoadBalancer service, keeps it across updates and gives it back', async () => {
  const m = svc('hc', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] });
  const made = await apply(m);
  const hc = made.spec.healthCheckNodePort!;
  expect(hc).toBeGreaterThanOrEqual(30000);
  expect(hc).not.toBe(made.spec.ports![0].nodePort);
  expect((await keys.get<{ name: string }>(`nodeport.tcp.${hc}`))?.object.name).toBe('hc');
  expect((await apply(m)).spec.healthCheckNodePort).toBe(hc);
  const taken = await caught(apply(svc('hc2', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }], healthCheckNodePort: hc })));
  expect((taken as Error).message).toContain(`spec.healthCheckNodePort: Invalid value: ${hc}: provided port is already allocated (to service default/hc)`);
  const cluster = await apply(svc('hc', { type: 'LoadBalancer', externalTrafficPolicy: 'Cluster', ports: [{ port: 80 }] }));
  expect(cluster.spec.healthCheckNodePort).toBeUndefined();
  expect(await keys.get(`nodeport.tcp.${hc}`)).toBeNull();
  await api('delete', { kind: 'services', name: 'hc' });
});

it('keeps allocations across updates, refuses a new cluster IP, and gives back a node port the type drops', async () => {
  const m = svc('upd', { type: 'NodePort', ports: [{ port: 80 }] });
  const made = await apply(m);
  const res = await api<ApplyResult>('apply', { object: m });
  expect(res.result).toBe('unchanged');
  const changed = await caught(apply(svc('upd', { type: 'NodePort', clusterIP: '10.96.0.99', ports: [{ port: 80 }] })));
  expect((changed as Error).message).toContain('may not change once set');
  const port = made.spec.ports![0].nodePort!;
  const plain = await apply(svc('upd', { type: 'ClusterIP', ports: [{ port: 80 }] }));
  expect(plain.spec.clusterIP).toBe(made.spec.clusterIP);
  expect(plain.spec.ports![0].nodePort).toBeUndefined();
  expect(await keys.get(`nodeport.tcp.${port}`)).toBeNull();
  const named = await apply(svc('upd', { type: 'ExternalName', externalName: 'db.example.com' }));
  expect(named.spec.clusterIP).toBeUndefined();
  expect(await keys.get(`clusterip.${made.spec.clusterIP!.replace(/\./g, '-')}`)).toBeNull();
  const back = await apply(svc('upd', { type: 'ClusterIP', ports: [{ port: 80 }] }));
  expect(inCidr(back.spec.clusterIP!)).toBe(true);
  const headless = await apply(svc('headless', { clusterIP: 'None', selector: { app: 'db' } }));
  expect(headless.spec.clusterIPs).toEqual(['None']);
});

it('lists the Ready nodes\' InternalIPs as a LoadBalancer service\'s ingress, following them', async () => {
  const node = (name: string, ip: string): Node => ({
    apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: {},
    status: {
      addresses: [{ type: 'InternalIP', address: ip }],
      conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: new Date(Date.now() + 3600_000).toISOString() }],
    },
  } as unknown as Node);
  await store.create(objectKey('nodes', undefined, 'lb1'), node('lb1', '192.168.5.1'));
  await store.create(objectKey('nodes', undefined, 'lb2'), node('lb2', '192.168.5.2'));
  const lb = await apply(svc('lb', { type: 'LoadBalancer', ports: [{ port: 80 }] }));
  expect(lb.spec.ports![0].nodePort).toBeGreaterThanOrEqual(30000);
  const ingress = async (want: string[]) => until(`ingress ${want.join(',')}`, async () => {
    const s = await getSvc('lb');
    const got = (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip);
    return JSON.stringify(got) === JSON.stringify(want) ? s : undefined;
  }, 20_000, 100);
  await ingress(['192.168.5.1', '192.168.5.2']);
  await store.mutate<Node>(objectKey('nodes', undefined, 'lb2'), (n) => {
    n.status!.conditions![0].status = 'False';
    return n;
  });
  await ingress(['192.168.5.1']);
  await store.delete(objectKey('nodes', undefined, 'lb1'));
  const none = await ingress([]);
  expect(none.status).toEqual({ loadBalancer: {} });
  expect((await getSvc('upd')).status).toEqual({ loadBalancer: {} });
});

it('gives a load balancer port to the oldest LoadBalancer service; a younger one stays pending with a Warning event', async () => {
  await store.create(objectKey('nodes', undefined, 'lb3'), {
    apiVersion: 'v1', kind: 'Node', metadata: { name: 'lb3' }, spec: {},
    status: {
      addresses: [{ type: 'InternalIP', address: '192.168.5.3' }],
      conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: new Date(Date.now() + 3600_000).toISOString() }],
    },
  });
  const ingressOf = (name: string) => until(`ingress of ${name}`, async () => {
    const got = (await getSvc(name)).status?.loadBalancer?.ingress ?? [];
    return got.length > 0 ? got : undefined;
  }, 20_000, 100);
  await apply(svc('first-lb', { type: 'LoadBalancer', ports: [{ port: 8443 }] }));
  expect(await ingressOf('first-lb')).toEqual([{ ip: '192.168.5.3' }]);
  await apply(svc('second-lb', { type: 'LoadBalancer', ports: [{ port: 8443 }] }));
  await until('a PortConflict event', async () => {
    const events = (await api<{ items: { reason?: string; message?: string }[] }>('list', {
      kind: 'events', namespace: 'default', fieldSelector: 'involvedObject.name=second-lb',
    })).items;
    return events.find((e) => e.reason === 'PortConflict' && e.message?.includes('held by LoadBalancer service default/first-lb'));
  }, 20_000, 200);
  expect((await getSvc('second-lb')).status).toEqual({ loadBalancer: {} });
  await api('delete', { kind: 'services', name: 'first-lb' });
  expect(await ingressOf('second-lb')).toEqual([{ ip: '192.168.5.3' }]);
  await api('delete', { kind: 'services', name: 'second-lb' });
  await store.delete(objectKey('nodes', undefined, 'lb3'));
});

it("keeps a LoadBalancer service off the port a node's ingress proxy reports, and lets it on once no node reports it", async () => {
  await store.create(objectKey('nodes', undefined, 'lb4'), {
    apiVersion: 'v1', kind: 'Node', metadata: { name: 'lb4', annotations: { 'mk.io/ingress-port': '8088' } }, spec: {},
    status: {
      addresses: [{ type: 'InternalIP', address: '192.168.5.4' }],
      conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: new Date(Date.now() + 3600_000).toISOString() }],
    },
  });
  await apply(svc('web-lb', { type: 'LoadBalancer', ports: [{ port: 8088 }] }));
  await until('a PortConflict event naming the ingress proxy', async () => {
    const events = (await api<{ items: { reason?: string; message?: string }[] }>('list', {
      kind: 'events', namespace: 'default', fieldSelector: 'involvedObject.name=web-lb',
    })).items;
    return events.find((e) => e.reason === 'PortConflict' && e.message?.includes('port 8088/TCP is reserved for the ingress proxy on node lb4'));
  }, 20_000, 200);
  expect((await getSvc('web-lb')).status).toEqual({ loadBalancer: {} });
  // The node stops serving ingress on that port: the service gets the node's address.
  await store.mutate<Node>(objectKey('nodes', undefined, 'lb4'), (n) => {
    delete n.metadata.annotations;
    return n;
  });
  await until('the load balancer ingress', async () => ((await getSvc('web-lb')).status?.loadBalancer?.ingress?.length ? true : undefined), 20_000, 100);
  await api('delete', { kind: 'services', name: 'web-lb' });
  await store.delete(objectKey('nodes', undefined, 'lb4'));
});

it('repairs a leaked allocation key', async () => {
  const owner = { namespace: 'default', name: 'ghost', uid: 'gone', at: new Date(Date.now() - 60_000).toISOString() };
  await keys.create('clusterip.10-96-0-200', owner);
  await keys.create('nodeport.tcp.30074', owner);
  await until('the leaked keys gone', async () => (!(await keys.get('clusterip.10-96-0-200')) && !(await keys.get('nodeport.tcp.30074')) ? true : undefined), 20_000, 100);
  // What live services hold is kept.
  const held = (await keyList()).map((k) => k.key);
  expect(held).toContain('clusterip.10-96-0-50');
});

it('records a key missing for what a service holds, with a Warning event on the service', async () => {
  const held = await apply(svc('held', { clusterIP: '10.96.0.201', ports: [{ port: 80 }] }));
  await keys.delete('clusterip.10-96-0-201');
  const back = await until('the key recorded again', async () => (await keys.get<{ uid: string }>('clusterip.10-96-0-201')) ?? undefined, 20_000, 100);
  expect(back.object.uid).toBe(held.metadata.uid);
  await until('a ClusterIPNotAllocated event', async () => {
    const events = (await api<{ items: { reason?: string; message?: string }[] }>('list', {
      kind: 'events', namespace: 'default', fieldSelector: 'involvedObject.name=held',
    })).items;
    return events.find((e) => e.reason === 'ClusterIPNotAllocated' && e.message === 'ClusterIP 10.96.0.201 is not allocated; repairing');
  }, 20_000, 200);
});

it('gives back the allocations of the services of a namespace being deleted', async () => {
  await api('apply', { object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gone-soon' } } });
  await api('apply', { object: { ...svc('inner', { type: 'NodePort', clusterIP: '10.96.0.202', ports: [{ port: 80, nodePort: 30072 }] }), metadata: { name: 'inner', namespace: 'gone-soon' } } });
  expect(await keys.get('clusterip.10-96-0-202')).not.toBeNull();
  await api('delete', { kind: 'namespaces', name: 'gone-soon' });
  await until('the namespace\'s allocations given back', async () => (!(await keys.get('clusterip.10-96-0-202')) && !(await keys.get('nodeport.tcp.30072')) ? true : undefined), 30_000, 100);
});

it('refuses a bad manifest, writing nothing', async () => {
  const err = await caught(apply(svc('bad', { ports: [{ port: 70000 }] })));
  expect((err as Error).message).toContain('spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive');
  expect(await store.get<KubeObject>(objectKey('services', 'default', 'bad'))).toBeNull();
});
