/**
 * The control plane against a real nats-server: the subject API, scheduling onto registered
 * nodes, deletion, namespaces, watch publications, and state surviving a restart. Nodes here are
 * Node objects written straight into the store (no node agent runs).
 */
import { connectBus, decode, ObjectStore, request, type Bus } from '../../../bus';
import { runControlPlane, type ControlPlane } from '../../../actors';
import {
  API, isNotFound, isValidation, objectKey,
  type ApplyResult, type DeleteResult, type GetResult, type ListResult, type Node, type Pod, type WatchEvent,
} from '../../../messages';
import { storedObjects } from '../../helpers/control-plane';
import { caught, startNatsServer, waitFor } from '../../helpers/nats-server';

jest.setTimeout(20_000);

const pod = (name: string, cpu = '100m', ns?: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, ...(ns ? { namespace: ns } : {}) },
  spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu } } }] },
});

const node = (name: string): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, uid: name },
  status: {
    allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
    conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: new Date(Date.now() + 3600_000).toISOString() }],
  },
});

describe('control plane', () => {
  let server: Awaited<ReturnType<typeof startNatsServer>>;
  let cp: ControlPlane;
  let bus: Bus;
  let store: ObjectStore;
  const api = <T>(verb: keyof typeof API, body: unknown) => request<T>(bus, API[verb], body);
  const getPod = async (name: string, ns = 'default') => (await api<GetResult>('get', { kind: 'pods', namespace: ns, name })).object as Pod;

  beforeAll(async () => {
    server = await startNatsServer();
    cp = await runControlPlane({ bus: { servers: server.url, name: 'cp-test' } });
    bus = await connectBus({ servers: server.url, name: 'cp-client' });
    store = await ObjectStore.open(bus);
  });
  afterAll(async () => {
    await cp?.stop();
    await bus?.close();
    await server?.stop();
  });

  it('creates the built-in namespaces and answers ping', async () => {
    const ns = await api<ListResult>('list', { kind: 'ns' });
    expect(ns.items.map((n) => n.metadata.name)).toEqual(expect.arrayContaining(['default', 'kube-system']));
    await expect(api('ping', {})).resolves.toHaveProperty('time');
  });

  it('gives a registered node a pod CIDR', async () => {
    await store.create(objectKey('nodes', undefined, 'n1'), node('n1'));
    const n = await waitFor(async () => (await store.get<Node>(objectKey('nodes', undefined, 'n1')))?.object.spec?.podCIDR, 'pod CIDR', 10_000);
    expect(n).toBe('10.244.0.0/24');
  });

  it('applies, reports unchanged and configured, and schedules onto the node', async () => {
    const first = await api<ApplyResult>('apply', { object: pod('a') });
    expect(first.result).toBe('created');
    expect(Number(first.object.metadata.resourceVersion)).toBeGreaterThan(0);
    expect((await api<ApplyResult>('apply', { object: pod('a') })).result).toBe('unchanged');
    const bound = await waitFor(async () => { const p = await getPod('a'); return p.spec.nodeName ? p : null; }, 'binding', 10_000);
    expect(bound.spec.nodeName).toBe('n1');
    expect(bound.status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'True' });
    const img = pod('a'); img.spec.containers[0].image = 'busybox:1.35.0';
    expect((await api<ApplyResult>('apply', { object: img })).result).toBe('configured');
    expect((await getPod('a')).metadata.generation).toBe(2);
  });

  it('says why a pod cannot be scheduled', async () => {
    await api('apply', { object: pod('huge', '64') });
    const p = await waitFor(async () => {
      const c = (await getPod('huge')).status?.conditions?.find((x) => x.type === 'PodScheduled');
      return c?.status === 'False' ? c : null;
    }, 'Unschedulable', 10_000);
    expect(p).toMatchObject({ reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible.' });
    // Deleting an unbound pod removes it at once.
    expect((await api<DeleteResult>('delete', { kind: 'pod', name: 'huge' })).result).toBe('deleted');
    expect(isNotFound(await caught(getPod('huge')))).toBe(true);
  });

  it('records Scheduled and FailedScheduling events, listed through mk.api.list kind events', async () => {
    type Ev = { reason: string; type: string; message: string; count: number; involvedObject: { name: string; uid?: string }; source: { component: string } };
    const events = async (fieldSelector?: string) =>
      (await api<ListResult>('list', { kind: 'events', namespace: 'default', ...(fieldSelector ? { fieldSelector } : {}) })).items as unknown as Ev[];
    const a = await getPod('a');
    const scheduled = await waitFor(async () => (await events(`involvedObject.uid=${a.metadata.uid}`)).find((e) => e.reason === 'Scheduled'), 'Scheduled', 10_000);
    expect(scheduled).toMatchObject({ type: 'Normal', message: 'Successfully assigned default/a to n1', source: { component: 'default-scheduler' } });
    await api('apply', { object: pod('huge2', '64') });
    const failed = await waitFor(async () => (await events('involvedObject.name=huge2')).find((e) => e.reason === 'FailedScheduling'), 'FailedScheduling', 10_000);
    expect(failed).toMatchObject({ type: 'Warning', message: '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible.', involvedObject: { name: 'huge2' } });
    expect((await events()).some((e) => e.involvedObject.name === 'a')).toBe(true);
    await api('delete', { kind: 'pods', name: 'huge2' });
    // Events are read-only through the api, and each kind has its own fields to select by.
    const ev = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'x' }, involvedObject: { kind: 'Pod', name: 'a' }, reason: 'R', message: 'm', type: 'Normal', count: 1, firstTimestamp: 't', lastTimestamp: 't', source: { component: 'me' } };
    expect(isValidation(await caught(api('apply', { object: ev })))).toBe(true);
    expect(isValidation(await caught(api('list', { kind: 'events', fieldSelector: 'spec.nodeName=n1' })))).toBe(true);
    expect((await events('reason=FailedScheduling,type=Warning')).every((e) => e.reason === 'FailedScheduling')).toBe(true);
    expect(isValidation(await caught(api('list', { kind: 'pods', fieldSelector: 'involvedObject.name=a' })))).toBe(true);
  });

  it('refuses bad input without writing anything', async () => {
    const before = await storedObjects(store, 'pods.>');
    const bad = [
      { object: { ...pod('x'), spec: { containers: [{ name: 'c', image: 'b', imagePolicy: 'x' }] } } },
      { object: pod('Not_DNS') },
      { object: { apiVersion: 'v1', kind: 'Potato', metadata: { name: 'x' } } },
      { object: pod('y', '100m', 'nowhere') },
      { object: 'just a string' },
    ];
    for (const b of bad) {
      const err = await caught(api('apply', b));
      expect(isValidation(err) || isNotFound(err)).toBe(true);
    }
    expect(await storedObjects(store, 'pods.>')).toEqual(before);
    // Wildcards and paths never reach the store as key tokens.
    for (const req of [{ kind: 'pods', namespace: '*' }, { kind: 'pods', namespace: 'a.b' }, { kind: 7 }]) {
      expect(isValidation(await caught(api('list', req)))).toBe(true);
    }
    expect(isValidation(await caught(api('get', { kind: 'pods', name: '>' })))).toBe(true);
    expect(isValidation(await caught(api('delete', { kind: 'pods', name: 'a', namespace: 'x y' })))).toBe(true);
  });

  it('marks a bound pod for graceful deletion instead of removing it', async () => {
    const res = await api<DeleteResult>('delete', { kind: 'pods', name: 'a', gracePeriodSeconds: 5 });
    expect(res.result).toBe('terminating');
    const p = await getPod('a');
    expect(p.metadata.deletionTimestamp).toBeTruthy();
    expect(p.metadata.deletionGracePeriodSeconds).toBe(5);
    // The node agent would finish it; here the test plays that part.
    await store.delete(objectKey('pods', 'default', 'a'));
  });

  it('publishes changes on mk.watch', async () => {
    const seen: WatchEvent[] = [];
    const sub = bus.nc.subscribe('mk.watch.pods.default.w', { callback: (_e, m) => { seen.push(decode<WatchEvent>(m.data)); } });
    await bus.nc.flush();
    await api('apply', { object: pod('w') });
    await waitFor(async () => seen.some((e) => e.type === 'MODIFIED' && (e.object as Pod).spec.nodeName), 'bound event', 10_000);
    // Grace 0 is a forced deletion: the object goes at once, bound or not.
    expect((await api<DeleteResult>('delete', { kind: 'pods', name: 'w', gracePeriodSeconds: 0 })).result).toBe('deleted');
    await waitFor(async () => seen.some((e) => e.type === 'DELETED'), 'deleted event', 10_000);
    sub.unsubscribe();
    expect(seen[0].type).toBe('ADDED');
  });

  it('deletes a namespace with its pods', async () => {
    await api('apply', { object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } } });
    await api('apply', { object: pod('p1', '100m', 'team') });
    // Bound first, so the namespace has to mark its pod for graceful deletion, not remove it.
    await waitFor(async () => (await getPod('p1', 'team')).spec.nodeName, 'p1 bound', 10_000);
    // Timestamps have whole seconds.
    const since = Math.floor(Date.now() / 1000) * 1000;
    expect((await api<DeleteResult>('delete', { kind: 'ns', name: 'team' })).result).toBe('terminating');
    const marked = await waitFor(async () => { const p = await getPod('p1', 'team'); return p.metadata.deletionTimestamp ? p : null; }, 'pod marked', 10_000);
    expect(Date.parse(marked.metadata.deletionTimestamp!)).toBeGreaterThanOrEqual(since);
    expect(Date.parse(marked.metadata.deletionTimestamp!)).toBeLessThanOrEqual(Date.now());
    expect(marked.metadata.deletionGracePeriodSeconds).toBe(30);
    // While its pod is there the namespace stays, Terminating.
    const ns = (await api<GetResult>('get', { kind: 'ns', name: 'team' })).object;
    expect(ns.metadata.deletionTimestamp).toBeDefined();
    expect(ns.status).toMatchObject({ phase: 'Terminating' });
    // Finish the pod as the node would; then the namespace goes.
    await store.delete(objectKey('pods', 'team', 'p1'));
    await waitFor(async () => isNotFound(await caught(api('get', { kind: 'ns', name: 'team' }))), 'namespace gone', 10_000);
    expect(isValidation(await caught(api('delete', { kind: 'ns', name: 'default' })))).toBe(true);
  });

  it('keeps every object across a control-plane restart and goes on scheduling', async () => {
    await api('apply', { object: pod('keep') });
    await waitFor(async () => (await getPod('keep')).spec.nodeName, 'keep bound', 10_000);
    await cp.stop();
    cp = await runControlPlane({ bus: { servers: server.url, name: 'cp-test-2' } });
    expect((await getPod('keep')).spec.nodeName).toBe('n1');
    await api('apply', { object: pod('later') });
    await waitFor(async () => (await getPod('later')).spec.nodeName, 'later bound', 10_000);
  });

  it('marks a node whose heartbeats stopped as Unknown', async () => {
    // A control plane gives every node a full grace period from its start: a short one here.
    await cp.stop();
    cp = await runControlPlane({ bus: { servers: server.url, name: 'cp-test-3' }, settings: { nodeMonitorGracePeriodMs: 1000 } });
    const stale = node('n2');
    stale.status!.conditions![0].lastHeartbeatTime = new Date(Date.now() - 60_000).toISOString();
    await store.create(objectKey('nodes', undefined, 'n2'), stale);
    const cond = await waitFor(async () => {
      const c = (await store.get<Node>(objectKey('nodes', undefined, 'n2')))?.object.status?.conditions?.[0];
      return c?.status === 'Unknown' ? c : null;
    }, 'Unknown', 10_000);
    expect(cond.reason).toBe('NodeStatusUnknown');
  });
});
