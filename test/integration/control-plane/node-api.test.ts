/**
 * The control plane's side of the node api and the per-node views of pods, against a real
 * nats-server: a node registers and heartbeats on its own name, writes the status of its own pods
 * only, removes only pods marked for deletion, and finds exactly its bound pods in its view.
 */
import { connectBus, ObjectStore, request, type Bus } from '../../../bus';
import { runControlPlane, type ControlPlane } from '../../../actors';
import {
  API, isForbidden, isNotFound, isValidation, NODE_PODS_BUCKET, NODE_ROUTES_BUCKET, nodeApiSubject, POD_NETWORK_ANNOTATION, VTEP_MAC_ANNOTATION,
  type ApplyResult, type NodeRoute, type GetResult, type Lease, type Node, type NodeResult, type Pod,
} from '../../../messages';
import { caught, startNatsServer, waitFor } from '../../helpers/nats-server';

jest.setTimeout(30_000);

const status = { capacity: { cpu: '2', memory: '4Gi', pods: '110' }, allocatable: { cpu: '2', memory: '4Gi', pods: '110' } };
const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });

describe('node api', () => {
  let server: Awaited<ReturnType<typeof startNatsServer>>;
  let cp: ControlPlane;
  let bus: Bus;
  let views: ObjectStore;
  const node = <T>(name: string, verb: Parameters<typeof nodeApiSubject>[1], body: unknown) => request<T>(bus, nodeApiSubject(name, verb), body);
  const getPod = async (name: string) => (await request<GetResult>(bus, API.get, { kind: 'pods', name })).object as Pod;

  beforeAll(async () => {
    server = await startNatsServer();
    cp = await runControlPlane({ bus: { servers: server.url, name: 'cp-test' } });
    bus = await connectBus({ servers: server.url, name: 'node-client' });
    views = await ObjectStore.open(bus, { bucket: NODE_PODS_BUCKET, create: false });
  });
  afterAll(async () => {
    await cp?.stop();
    await bus?.close();
    await server?.stop();
  });

  it('registers a node, gives it a pod CIDR, and takes its heartbeats', async () => {
    const { node: n } = await node<NodeResult>('n1', 'register', { status, labels: { 'kubernetes.io/hostname': 'n1' } });
    expect(n.metadata).toMatchObject({ name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } });
    const cidr = await waitFor(async () => (await node<NodeResult>('n1', 'heartbeat', { ready: { status: 'True', reason: 'NodeReady', message: 'ok' } })).node.spec?.podCIDR, 'a pod CIDR');
    expect(cidr).toMatch(/^10\.244\.\d+\.0\/24$/);
    // Registering again keeps the CIDR and the conditions.
    const again = await node<NodeResult>('n1', 'register', { status, labels: {} });
    expect(again.node.spec?.podCIDR).toBe(cidr);
    expect(again.node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    await node('n2', 'register', { status, labels: {} });
    expect(isNotFound(await caught(node('n3', 'heartbeat', { ready: { status: 'True', reason: 'NodeReady', message: 'ok' } })))).toBe(true);
    expect(isValidation(await caught(node('n1', 'heartbeat', { ready: { status: 'Maybe' } })))).toBe(true);
    expect(isValidation(await caught(node('n1', 'register', { status: 'nope' })))).toBe(true);
  });

  it('renews the node\'s Lease on every heartbeat and writes the Node only when a condition changed', async () => {
    const ready = { ready: { status: 'True', reason: 'NodeReady', message: 'ok' } };
    const getLease = async () => (await request<GetResult>(bus, API.get, { kind: 'leases', namespace: 'kube-node-lease', name: 'n9' })).object as Lease;
    const getNode = async () => (await request<GetResult>(bus, API.get, { kind: 'nodes', name: 'n9' })).object as Node;
    const { node: registered } = await node<NodeResult>('n9', 'register', { status, labels: {} });
    expect((await getLease()).metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: 'n9', uid: registered.metadata.uid }]);
    // Settled: a pod CIDR and no taints (the controller writes nothing more).
    await waitFor(async () => {
      const n = (await node<NodeResult>('n9', 'heartbeat', ready)).node;
      return n.spec?.podCIDR && !n.spec.taints?.length ? n : null;
    }, 'n9 settled');
    const before = await getNode();
    const lease = await getLease();
    expect(lease.spec).toMatchObject({ holderIdentity: 'n9', leaseDurationSeconds: 40 });
    await node<NodeResult>('n9', 'heartbeat', ready);
    expect((await getNode()).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    const renewed = await getLease();
    expect(Number(renewed.metadata.resourceVersion)).toBeGreaterThan(Number(lease.metadata.resourceVersion));
    expect(renewed.spec?.acquireTime).toBe(lease.spec?.acquireTime);
    // A pressure condition that comes reaches the Node at once.
    const pressure = { type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'low' };
    const { node: after } = await node<NodeResult>('n9', 'heartbeat', { ...ready, conditions: [pressure] });
    expect(after.status?.conditions?.find((c) => c.type === 'MemoryPressure')?.status).toBe('True');
    expect(Number(after.metadata.resourceVersion)).toBeGreaterThan(Number(before.metadata.resourceVersion));
    // Deleting the Node takes its Lease with it (the garbage collector).
    await request(bus, API.delete, { kind: 'nodes', name: 'n9' });
    await waitFor(async () => (isNotFound(await caught(getLease())) ? true : null), 'the lease to go with its node');
  });

  it('puts each bound pod in its node\'s view and nowhere else, and takes it out when it goes', async () => {
    for (const n of ['n1', 'n2']) {
      await waitFor(async () => ((await node<NodeResult>(n, 'heartbeat', { ready: { status: 'True', reason: 'NodeReady', message: 'ok' } })).node.spec?.podCIDR ? true : null), `${n} Ready`);
    }
    for (const name of ['a', 'b', 'c', 'd']) await request<ApplyResult>(bus, API.apply, { object: pod(name) });
    const bound = await waitFor(async () => {
      const ps = await Promise.all(['a', 'b', 'c', 'd'].map(getPod));
      return ps.every((p) => p.spec.nodeName) ? ps : null;
    }, 'all bound');
    const byNode = (n: string) => bound.filter((p) => p.spec.nodeName === n).map((p) => `${n}.default.${p.metadata.name}`).sort();
    await waitFor(async () => {
      const keys = (await views.list('>')).items.map((i) => i.key).sort();
      return JSON.stringify(keys) === JSON.stringify([...byNode('n1'), ...byNode('n2')].sort()) ? keys : null;
    }, 'the views');
    expect((await views.list<Pod>('n1.>')).items.every((i) => i.object.spec.nodeName === 'n1')).toBe(true);

    const gone = bound[0];
    await request(bus, API.delete, { kind: 'pods', name: gone.metadata.name, gracePeriodSeconds: 0 });
    await waitFor(async () => ((await views.get(`${gone.spec.nodeName}.default.${gone.metadata.name}`)) === null ? true : null), 'the view of the deleted pod to go');
  });

  it('writes the status of the node\'s own pods only, keeping the scheduler\'s condition', async () => {
    await request(bus, API.apply, { object: pod('s') });
    const p = await waitFor(async () => { const x = await getPod('s'); return x.spec.nodeName ? x : null; }, 'bound');
    const mine = p.spec.nodeName!;
    const other = mine === 'n1' ? 'n2' : 'n1';
    const ref = { namespace: 'default', name: 's', uid: p.metadata.uid };
    await node(mine, 'pod-status', { ...ref, status: { phase: 'Running', podIP: '10.244.1.9', conditions: [{ type: 'Ready', status: 'True' }] } });
    const after = await getPod('s');
    expect(after.status?.phase).toBe('Running');
    expect(after.status?.conditions?.map((c) => c.type).sort()).toEqual(['PodScheduled', 'Ready']);
    expect(isForbidden(await caught(node(other, 'pod-status', { ...ref, status: { phase: 'Failed' } })))).toBe(true);
    expect(isNotFound(await caught(node(mine, 'pod-status', { ...ref, uid: 'another', status: { phase: 'Failed' } })))).toBe(true);
    expect(isValidation(await caught(node(mine, 'pod-status', { ...ref, name: 'Bad_Name', status: {} })))).toBe(true);
    expect((await getPod('s')).status?.phase).toBe('Running');

    // Removal: only a pod being deleted, and only by its own node.
    expect(isValidation(await caught(node(mine, 'pod-terminated', ref)))).toBe(true);
    await request(bus, API.delete, { kind: 'pods', name: 's' });
    expect((await getPod('s')).metadata.deletionTimestamp).toBeDefined();
    expect(isForbidden(await caught(node(other, 'pod-terminated', ref)))).toBe(true);
    await node(mine, 'pod-terminated', ref);
    expect(isNotFound(await caught(getPod('s')))).toBe(true);
    await node(mine, 'pod-terminated', ref); // already gone: fine
  });

  it('keeps a pod with finalizers after its node stopped it, until they are emptied', async () => {
    const held = { ...pod('held'), metadata: { name: 'held', finalizers: ['example.com/hold'] } };
    await request(bus, API.apply, { object: held });
    const p = await waitFor(async () => { const x = await getPod('held'); return x.spec.nodeName ? x : null; }, 'bound');
    const ref = { namespace: 'default', name: 'held', uid: p.metadata.uid };
    await request(bus, API.delete, { kind: 'pods', name: 'held', gracePeriodSeconds: 10 });
    expect((await getPod('held')).metadata.deletionGracePeriodSeconds).toBe(10);
    await node(p.spec.nodeName!, 'pod-terminated', ref);
    // Stopped, but still there: only its finalizers hold it now.
    const stopped = await getPod('held');
    expect(stopped.metadata).toMatchObject({ deletionGracePeriodSeconds: 0, finalizers: ['example.com/hold'] });
    await request(bus, API.apply, { object: { ...held, metadata: { name: 'held', finalizers: [] } } });
    await waitFor(async () => isNotFound(await caught(getPod('held'))), 'held pod gone');
  });

  it('lets no node name a node that is not a DNS label', async () => {
    expect(isValidation(await caught(request(bus, 'mk.api.node.Bad_Node.register', { status, labels: {} })))).toBe(true);
    const nodes = (await request<{ items: Node[] }>(bus, API.list, { kind: 'nodes' })).items.map((n) => n.metadata.name);
    expect(nodes).not.toContain('Bad_Node');
  });

  it('publishes the route of every node with a pod CIDR and an InternalIP, and takes it out when the node goes', async () => {
    const routes = await ObjectStore.open(bus, { bucket: NODE_ROUTES_BUCKET, create: false });
    const withIP = { ...status, addresses: [{ type: 'InternalIP', address: '172.30.0.21' }, { type: 'Hostname', address: 'r1' }] };
    await node('r1', 'register', { status: withIP, labels: {} });
    const cidr = await waitFor(async () => (await node<NodeResult>('r1', 'heartbeat', { ready: { status: 'True', reason: 'NodeReady', message: 'ok' } })).node.spec?.podCIDR, 'r1\'s pod CIDR');
    const route = await waitFor(async () => (await routes.get<NodeRoute>('r1'))?.object, 'r1\'s route');
    expect(route).toEqual({ name: 'r1', podCIDR: cidr, internalIP: '172.30.0.21' });
    // A node that reports no InternalIP has no route to publish.
    expect(await routes.get('n1')).toBeNull();
    await request(bus, API.delete, { kind: 'nodes', name: 'r1' });
    await waitFor(async () => ((await routes.get('r1')) === null ? true : null), 'r1\'s route gone');
  });


  it('carries the VTEP MAC a vxlan node reports into its route, and drops it when the node registers as host-gw', async () => {
    const routes = await ObjectStore.open(bus, { bucket: NODE_ROUTES_BUCKET, create: false });
    const withIP = { ...status, addresses: [{ type: 'InternalIP', address: '172.30.0.22' }] };
    const vxlan = { [VTEP_MAC_ANNOTATION]: '0e:6b:ac:1e:00:16', [POD_NETWORK_ANNOTATION]: 'vxlan' };
    const { node: n } = await node<NodeResult>('v1', 'register', { status: withIP, labels: {}, annotations: vxlan });
    expect(n.metadata.annotations).toEqual(vxlan);
    const route = await waitFor(async () => (await routes.get<NodeRoute>('v1'))?.object, 'v1\'s route');
    expect(route).toMatchObject({ name: 'v1', internalIP: '172.30.0.22', vtepMAC: '0e:6b:ac:1e:00:16' });
    // A user's annotation stays; the node's own ones follow what it reports.
    await request(bus, API.patch, { kind: 'nodes', name: 'v1', type: 'merge', patch: { metadata: { annotations: { team: 'net' } } } });
    const { node: again } = await node<NodeResult>('v1', 'register', { status: withIP, labels: {} });
    expect(again.metadata.annotations).toEqual({ team: 'net' });
    await waitFor(async () => ((await routes.get<NodeRoute>('v1'))?.object && !(await routes.get<NodeRoute>('v1'))!.object.vtepMAC ? true : null), 'v1\'s route without a MAC');
    // Only its own reported annotations, well formed.
    expect(isForbidden(await caught(node('v1', 'register', { status: withIP, labels: {}, annotations: { team: 'x' } })))).toBe(true);
    expect(isValidation(await caught(node('v1', 'register', { status: withIP, labels: {}, annotations: { [VTEP_MAC_ANNOTATION]: '01:00:5e:00:00:01' } })))).toBe(true);
    expect(isValidation(await caught(node('v1', 'register', { status: withIP, labels: {}, annotations: { [POD_NETWORK_ANNOTATION]: 'udp' } })))).toBe(true);
    for (const bad of ['0', '65536', '80x', '080', ' 80']) {
      expect(isValidation(await caught(node('v1', 'register', { status: withIP, labels: {}, annotations: { 'mk.io/ingress-port': bad } })))).toBe(true);
    }
    const { node: ing } = await node<NodeResult>('v1', 'register', { status: withIP, labels: {}, annotations: { 'mk.io/ingress-port': '80' } });
    expect(ing.metadata.annotations).toEqual({ team: 'net', 'mk.io/ingress-port': '80' });
    await request(bus, API.delete, { kind: 'nodes', name: 'v1' });
  });
  it('still takes a pod out of its node\'s view when it is deleted after the server restarted with its store', async () => {
    await request(bus, API.apply, { object: pod('after-restart') });
    const p = await waitFor(async () => { const x = await getPod('after-restart'); return x.spec.nodeName ? x : null; }, 'bound');
    const view = `${p.spec.nodeName}.default.after-restart`;
    await waitFor(async () => ((await views.get(view)) ? true : null), 'the view');
    server.kill();
    await server.restart();
    await waitFor(async () => { await request(bus, API.ping, {}); return true; }, 'the api again', 15_000);
    await request(bus, API.delete, { kind: 'pods', name: 'after-restart', gracePeriodSeconds: 0 });
    await waitFor(async () => ((await views.get(view)) === null ? true : null), 'the view to go', 15_000);
  });

  it('re-makes the store, views included, when the server comes back without it (the running control plane, after it reconnects)', async () => {
    server.kill();
    await server.restart({ wipe: true });
    await waitFor(async () => ((await request<{ items: unknown[] }>(bus, API.list, { kind: 'ns' })).items.length >= 3 ? true : null), 'the built-in namespaces again', 15_000);
    await node('n1', 'register', { status, labels: {} });
    await waitFor(async () => ((await node<NodeResult>('n1', 'heartbeat', { ready: { status: 'True', reason: 'NodeReady', message: 'ok' } })).node.spec?.podCIDR ? true : null), 'n1 Ready again');
    await request(bus, API.apply, { object: pod('fresh') });
    await waitFor(async () => ((await views.list('>')).items.some((i) => i.key.endsWith('.default.fresh')) ? true : null), 'the view of a new pod', 15_000);
  });
});
