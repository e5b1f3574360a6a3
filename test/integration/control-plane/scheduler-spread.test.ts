/**
 * Scheduling gates, topology spread and extended resources against a real nats-server and
 * control plane, with Node objects written straight into the store (no node agent): a gated pod
 * waits (SchedulingGated) until its last gate is removed, gates cannot be added, pods with a
 * DoNotSchedule constraint spread evenly over zones and the one too many says why, and an extended
 * resource patched into a node's status capacity is counted against the pods that ask for it.
 */
import { connectBus, ObjectStore, request, type Bus } from '../../../bus';
import { runControlPlane, type ControlPlane } from '../../../actors';
import {
  API, nodeApiSubject, objectKey, type GetResult, type KubeObject, type Node, type NodeResult, type Pod,
} from '../../../messages';
import { startNatsServer, waitFor } from '../../helpers/nats-server';

jest.setTimeout(60_000);

const ZONE = 'topology.kubernetes.io/zone';
const node = (name: string, zone: string): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, uid: name, labels: { [ZONE]: zone } },
  status: {
    capacity: { cpu: '4', memory: '4Gi', pods: '110' },
    allocatable: { cpu: '4', memory: '4Gi', pods: '110' },
    // A heartbeat in the future: the node lifecycle must not mark these nodes NotReady meanwhile.
    conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: new Date(Date.now() + 3600_000).toISOString() }],
  },
});
const pod = (name: string, spec: Record<string, unknown> = {}, labels?: Record<string, string>) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, ...(labels ? { labels } : {}) },
  spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m' } } }], ...spec },
});

let bus: Bus;
let store: ObjectStore;
let cp: ControlPlane | undefined;
let stopServer: (() => Promise<void>) | undefined;
const attempts = new Map<string, number>();

beforeAll(async () => {
  const server = await startNatsServer();
  stopServer = () => server.stop();
  cp = await runControlPlane({
    bus: { servers: server.url, name: 'cp-sched-spread' },
    scheduler: { onAttempt: (key) => attempts.set(key, (attempts.get(key) ?? 0) + 1) },
  });
  bus = await connectBus({ servers: server.url, name: 'sched-spread-client' });
  store = await ObjectStore.open(bus);
  for (const [name, zone] of [['n-a', 'a'], ['n-b', 'b'], ['n-c', 'c']]) await store.create(objectKey('nodes', undefined, name), node(name, zone));
});
afterAll(async () => {
  await cp?.stop();
  await bus?.close();
  await stopServer?.();
});

const apply = (obj: unknown) => request(bus, API.apply, { object: obj });
const getPod = async (name: string) => (await request<GetResult>(bus, API.get, { kind: 'pods', namespace: 'default', name })).object as Pod;
const scheduledCondition = async (name: string) => (await getPod(name)).status?.conditions?.find((c) => c.type === 'PodScheduled');
const boundTo = (name: string) => waitFor(async () => (await getPod(name)).spec.nodeName, `${name} bound`, 20_000);
const unschedulable = (name: string) => waitFor(async () => {
  const c = await scheduledCondition(name);
  return c?.status === 'False' && c.reason === 'Unschedulable' ? c.message : undefined;
}, `${name} Unschedulable`, 20_000);
const errorOf = async (p: Promise<unknown>): Promise<string> => {
  try { await p; } catch (err) { return String((err as Error).message); }
  throw new Error('expected the request to fail');
};

describe('scheduling gates', () => {
  const gates = (...names: string[]) => names.map((name) => ({ name }));

  it('hold a pod back until the last gate is removed, then it is scheduled', async () => {
    await apply(pod('gated', { schedulingGates: gates('example.com/quota', 'example.com/review') }));
    expect(await scheduledCondition('gated')).toMatchObject({
      status: 'False', reason: 'SchedulingGated', message: 'Scheduling is blocked due to non-empty scheduling gates',
    });
    // A pod created after it is bound: the scheduler has been asked about the gated one and left it.
    await apply(pod('after-gated'));
    await boundTo('after-gated');
    expect((await getPod('gated')).spec.nodeName).toBeUndefined();
    expect(attempts.get(objectKey('pods', 'default', 'gated'))).toBeUndefined();

    // One gate removed by a merge patch: still gated.
    await request(bus, API.patch, {
      kind: 'pods', namespace: 'default', name: 'gated', type: 'merge', patch: { spec: { schedulingGates: gates('example.com/review') } },
    });
    await apply(pod('after-one-gate'));
    await boundTo('after-one-gate');
    expect((await getPod('gated')).spec.nodeName).toBeUndefined();
    expect(await scheduledCondition('gated')).toMatchObject({ reason: 'SchedulingGated' });

    // The last removed by apply (the manifest no longer lists it): scheduled.
    await apply(pod('gated'));
    expect(await boundTo('gated')).toMatch(/^n-[abc]$/);
    expect(await scheduledCondition('gated')).toMatchObject({ status: 'True' });
    expect((await getPod('gated')).spec.schedulingGates).toBeUndefined();
  });

  it('let a gated pod narrow where it may go, and it goes there once ungated', async () => {
    await apply(pod('narrowed', { schedulingGates: gates('example.com/placement') }));
    await request(bus, API.patch, {
      kind: 'pods', namespace: 'default', name: 'narrowed', type: 'merge', patch: { spec: { nodeSelector: { [ZONE]: 'c' } } },
    });
    expect(await errorOf(request(bus, API.patch, {
      kind: 'pods', namespace: 'default', name: 'narrowed', type: 'merge', patch: { spec: { nodeSelector: { [ZONE]: 'b' } } },
    }))).toMatch(/spec.nodeSelector: entries may only be added while the pod is gated/);
    await request(bus, API.patch, {
      kind: 'pods', namespace: 'default', name: 'narrowed', type: 'json', patch: [{ op: 'remove', path: '/spec/schedulingGates' }],
    });
    expect(await boundTo('narrowed')).toBe('n-c');
  });

  it('may not be added after creation, nor go with nodeName', async () => {
    await apply(pod('ungated'));
    await boundTo('ungated');
    await apply(pod('gated-2', { schedulingGates: gates('a') }));
    expect(await errorOf(apply(pod('gated-2', { schedulingGates: gates('a', 'b') }))))
      .toMatch(/spec.schedulingGates: scheduling gates may only be removed after creation, not added \("b"\)/);
    expect((await getPod('gated-2')).spec.schedulingGates).toEqual(gates('a'));
    expect(await errorOf(apply(pod('gated-bound', { nodeName: 'n-a', schedulingGates: gates('a') }))))
      .toMatch(/nodeName may not be set on a pod with schedulingGates/);
    await expect(getPod('gated-bound')).rejects.toThrow(/not found/);
  });
});

describe('topology spread constraints', () => {
  const spread = (name: string, app: string, extra: Record<string, unknown> = {}) => pod(name, {
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app } }, ...extra }],
  }, { app });

  it('spread pods evenly over the zones with maxSkew 1', async () => {
    const on: string[] = [];
    for (let i = 0; i < 6; i++) {
      await apply(spread(`web-${i}`, 'web'));
      on.push(await boundTo(`web-${i}`)); // one at a time, so each decision sees the last
    }
    expect(on.filter((n) => n === 'n-a')).toHaveLength(2);
    expect(on.filter((n) => n === 'n-b')).toHaveLength(2);
    expect(on.filter((n) => n === 'n-c')).toHaveLength(2);
  });

  it('keep the one too many Pending, saying why in Kubernetes\' words', async () => {
    // minDomains 4 with three zones: at most maxSkew (1) matching pod per zone.
    for (let i = 0; i < 3; i++) {
      await apply(spread(`few-${i}`, 'few', { minDomains: 4 }));
      await boundTo(`few-${i}`);
    }
    await apply(spread('few-3', 'few', { minDomains: 4 }));
    expect(await unschedulable('few-3')).toBe("0/3 nodes are available: 3 node(s) didn't match pod topology spread constraints. preemption: not eligible.");
  });

  it('refuse a constraint with maxSkew 0 or without a topologyKey, creating nothing', async () => {
    expect(await errorOf(apply(spread('bad-skew', 'bad', { maxSkew: 0 })))).toMatch(/maxSkew must be at least 1/);
    expect(await errorOf(apply(pod('bad-key', { topologySpreadConstraints: [{ maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule' }] }))))
      .toMatch(/topologyKey/);
    await expect(getPod('bad-skew')).rejects.toThrow(/not found/);
  });
});

describe('extended resources', () => {
  const dongles = (name: string, n: number) => {
    const p = pod(name);
    p.spec.containers[0].resources = { requests: { cpu: '100m' }, limits: { 'example.com/dongle': String(n) } } as never;
    return p;
  };

  it('patched into a node\'s status capacity, are counted against the pods that ask for them', async () => {
    const patched = (await request<{ object: KubeObject }>(bus, API.patch, {
      kind: 'nodes', name: 'n-b', type: 'merge', subresource: 'status', patch: { status: { capacity: { 'example.com/dongle': '2' } } },
    })).object as Node;
    expect(patched.status?.capacity?.['example.com/dongle']).toBe('2');
    await apply(dongles('dongle-1', 1));
    await apply(dongles('dongle-2', 1));
    expect(await boundTo('dongle-1')).toBe('n-b');
    expect(await boundTo('dongle-2')).toBe('n-b');
    await apply(dongles('dongle-3', 1));
    expect(await unschedulable('dongle-3')).toBe('0/3 nodes are available: 3 Insufficient example.com/dongle. preemption: not eligible.');
  });

  it('stay on the node when its agent registers again without them', async () => {
    const cur = (await store.get<Node>(objectKey('nodes', undefined, 'n-b')))!.object;
    const { capacity, allocatable } = node('n-b', 'b').status!;
    const { node: after } = await request<NodeResult>(bus, nodeApiSubject('n-b', 'register'), {
      status: { capacity, allocatable }, labels: cur.metadata.labels,
    });
    expect(after.status?.capacity?.['example.com/dongle']).toBe('2');
    expect(after.status?.capacity?.cpu).toBe('4');
  });

  it('must be whole numbers, with limits equal to requests', async () => {
    const half = dongles('half', 1);
    half.spec.containers[0].resources = { limits: { 'example.com/dongle': '500m' } } as never;
    expect(await errorOf(apply(half))).toMatch(/example.com\/dongle must be a whole number \(got 500m\)/);
    const unequal = dongles('unequal', 2);
    (unequal.spec.containers[0].resources as { requests: Record<string, string> }).requests['example.com/dongle'] = '1';
    expect(await errorOf(apply(unequal))).toMatch(/the request for example.com\/dongle \(1\) must equal its limit \(2\)/);
  });
});
