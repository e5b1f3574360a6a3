/**
 * The scheduler's plugins and queue against a real nats-server and control plane, with Node
 * objects written straight into the store (no node agent): least-allocated spreads pods,
 * nodeSelector, node affinity, pod anti-affinity and taints place or keep them, a pod that fits
 * nowhere says why in Kubernetes' words (condition and FailedScheduling event), and it is tried
 * again only when a change could help it: a node that fits, not a heartbeat.
 */
import { connectBus, ObjectStore, request, type Bus } from '../../../bus';
import { runControlPlane, type ControlPlane } from '../../../actors';
import { API, objectKey, type GetResult, type ListResult, type Node, type Pod, type Taint } from '../../../messages';
import { startNatsServer, waitFor } from '../../helpers/nats-server';

jest.setTimeout(60_000);

const node = (name: string, labels: Record<string, string>, cpu = '2', taints?: Taint[]): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, uid: name, labels },
  ...(taints ? { spec: { taints } } : {}),
  status: {
    allocatable: { cpu, memory: '4Gi', pods: '110' },
    // A heartbeat in the future: the node lifecycle must not mark these nodes NotReady meanwhile.
    conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: new Date(Date.now() + 3600_000).toISOString() }],
  },
});
const pod = (name: string, cpu: string, spec: Record<string, unknown> = {}, labels?: Record<string, string>) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, ...(labels ? { labels } : {}) },
  spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu } } }], ...spec },
});
const GPU_TOLERATION = { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' };

interface Harness { bus: Bus; store: ObjectStore; attempts: Map<string, number>; stop(): Promise<void> }

async function startCluster(policy?: 'least-allocated' | 'round-robin', unschedulableFlushMs?: number): Promise<Harness> {
  const server = await startNatsServer();
  const attempts = new Map<string, number>();
  let cp: ControlPlane | undefined;
  let bus: Bus | undefined;
  try {
    cp = await runControlPlane({
      bus: { servers: server.url, name: 'cp-sched-plugins' },
      scheduler: { policy, unschedulableFlushMs, onAttempt: (key) => attempts.set(key, (attempts.get(key) ?? 0) + 1) },
    });
    bus = await connectBus({ servers: server.url, name: 'sched-plugins-client' });
    const store = await ObjectStore.open(bus);
    const [c, b] = [cp, bus];
    return { bus, store, attempts, async stop() { await c.stop(); await b.close(); await server.stop(); } };
  } catch (err) {
    await cp?.stop();
    await bus?.close();
    await server.stop();
    throw err;
  }
}

async function apply(h: Harness, obj: unknown): Promise<void> {
  await request(h.bus, API.apply, { object: obj });
}
async function getPod(h: Harness, name: string): Promise<Pod> {
  return (await request<GetResult>(h.bus, API.get, { kind: 'pods', namespace: 'default', name })).object as Pod;
}
async function boundTo(h: Harness, name: string): Promise<string> {
  return waitFor(async () => (await getPod(h, name)).spec.nodeName, `${name} bound`, 20_000);
}
async function unschedulable(h: Harness, name: string): Promise<string> {
  return waitFor(async () => {
    const c = (await getPod(h, name)).status?.conditions?.find((x) => x.type === 'PodScheduled');
    return c?.status === 'False' && c.reason === 'Unschedulable' ? c.message : undefined;
  }, `${name} Unschedulable`, 20_000);
}

describe('scheduler plugins (least-allocated)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startCluster();
    await h.store.create(objectKey('nodes', undefined, 'n-a'), node('n-a', { disk: 'ssd', zone: 'a' }));
    await h.store.create(objectKey('nodes', undefined, 'n-b'), node('n-b', { disk: 'hdd', zone: 'b' }));
    const gpuNode = node('n-c', { disk: 'hdd', zone: 'b' }, '2', [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
    gpuNode.status!.allocatable!['nvidia.com/gpu'] = '1';
    await h.store.create(objectKey('nodes', undefined, 'n-c'), gpuNode);
  });
  afterAll(async () => { await h?.stop(); });

  it('spreads pods over the untainted nodes, least allocated first', async () => {
    for (let i = 0; i < 4; i++) {
      await apply(h, pod(`spread-${i}`, '200m'));
      await boundTo(h, `spread-${i}`); // one at a time, so each decision sees the last
    }
    const on = await Promise.all([0, 1, 2, 3].map((i) => boundTo(h, `spread-${i}`)));
    expect(on.filter((n) => n === 'n-a')).toHaveLength(2);
    expect(on.filter((n) => n === 'n-b')).toHaveLength(2);
  });

  it('places by nodeSelector, and by required node affinity with a toleration', async () => {
    await apply(h, pod('on-ssd', '100m', { nodeSelector: { disk: 'ssd' } }));
    expect(await boundTo(h, 'on-ssd')).toBe('n-a');
    await apply(h, pod('on-gpu', '100m', {
      tolerations: [GPU_TOLERATION],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
        { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n-c'] }] },
      ] } } },
    }));
    expect(await boundTo(h, 'on-gpu')).toBe('n-c');
  });

  it('keeps pods with required anti-affinity on separate nodes, and says why for the one too many', async () => {
    const solo = (name: string) => pod(name, '100m', {
      tolerations: [GPU_TOLERATION],
      affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [
        { labelSelector: { matchLabels: { app: 'solo' } }, topologyKey: 'kubernetes.io/hostname' },
      ] } },
    }, { app: 'solo' });
    for (const name of ['solo-1', 'solo-2', 'solo-3']) await apply(h, solo(name));
    const on = await Promise.all(['solo-1', 'solo-2', 'solo-3'].map((n) => boundTo(h, n)));
    expect(new Set(on)).toEqual(new Set(['n-a', 'n-b', 'n-c']));
    await apply(h, solo('solo-4'));
    expect(await unschedulable(h, 'solo-4')).toBe("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: not eligible.");
  });

  it('keeps a pod off a taint it does not tolerate, with the condition and a FailedScheduling event', async () => {
    await apply(h, pod('no-toleration', '100m', {
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
        { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n-c'] }] },
      ] } } },
    }));
    const want = "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 node(s) didn't match Pod's node affinity/selector. "
      + 'preemption: not eligible.';
    expect(await unschedulable(h, 'no-toleration')).toBe(want);
    const event = await waitFor(async () => {
      const { items } = await request<ListResult>(h.bus, API.list, { kind: 'events', namespace: 'default', fieldSelector: 'involvedObject.name=no-toleration' });
      return (items as unknown as { reason: string; type: string; message: string }[]).find((e) => e.reason === 'FailedScheduling');
    }, 'FailedScheduling event', 20_000);
    expect(event).toMatchObject({ type: 'Warning', message: want });
  });

  it('counts GPUs, and gives a waiting pod the GPU a finished pod leaves', async () => {
    const gpuPod = (name: string) => {
      const p = pod(name, '100m', { tolerations: [GPU_TOLERATION] });
      p.spec.containers[0].resources = { requests: { cpu: '100m' }, limits: { 'nvidia.com/gpu': '1' } } as never;
      return p;
    };
    await apply(h, gpuPod('gpu-1'));
    expect(await boundTo(h, 'gpu-1')).toBe('n-c');
    await apply(h, gpuPod('gpu-2'));
    expect(await unschedulable(h, 'gpu-2')).toBe('0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: not eligible.');
    // gpu-1 finishes, as its node would report it: its GPU is free, and gpu-2 gets it.
    const key = objectKey('pods', 'default', 'gpu-1');
    const cur = (await h.store.get<Pod>(key))!;
    await h.store.update(key, { ...cur.object, status: { ...cur.object.status, phase: 'Succeeded' } }, cur.revision);
    expect(await boundTo(h, 'gpu-2')).toBe('n-c');
    expect(h.attempts.get(objectKey('pods', 'default', 'gpu-2'))).toBe(2);
  });

  it('tries a pending pod again when a node that fits appears, not on a heartbeat or in a loop', async () => {
    await apply(h, pod('big', '3', { tolerations: [GPU_TOLERATION] }));
    expect(await unschedulable(h, 'big')).toBe('0/3 nodes are available: 3 Insufficient cpu. preemption: not eligible.');
    const key = objectKey('pods', 'default', 'big');
    // A heartbeat changes nothing the scheduler reads: no new attempt.
    const cur = (await h.store.get<Node>(objectKey('nodes', undefined, 'n-a')))!;
    const beat = structuredClone(cur.object);
    beat.status!.conditions![0].lastHeartbeatTime = new Date(Date.now() + 7200_000).toISOString();
    await h.store.update(objectKey('nodes', undefined, 'n-a'), beat, cur.revision);
    // Another pod scheduled after both: the scheduler has handled everything before it.
    await apply(h, pod('marker', '100m', { nodeSelector: { disk: 'ssd' } }));
    await boundTo(h, 'marker');
    expect(h.attempts.get(key)).toBe(1);
    await h.store.create(objectKey('nodes', undefined, 'n-big'), node('n-big', { disk: 'ssd' }, '4'));
    expect(await boundTo(h, 'big')).toBe('n-big');
    expect(h.attempts.get(key)).toBe(2);
    const bound = await getPod(h, 'big');
    expect(bound.status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'True' });
  });
});

describe('scheduler plugins (round-robin)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startCluster('round-robin');
    await h.store.create(objectKey('nodes', undefined, 'rr-big'), node('rr-big', {}, '16'));
    await h.store.create(objectKey('nodes', undefined, 'rr-small'), node('rr-small', {}, '1'));
  });
  afterAll(async () => { await h?.stop(); });

  it('takes the nodes that fit in turn, whatever their load', async () => {
    const on: string[] = [];
    for (let i = 0; i < 4; i++) {
      await apply(h, pod(`rr-${i}`, '100m'));
      on.push(await boundTo(h, `rr-${i}`));
    }
    expect(on).toEqual(['rr-big', 'rr-small', 'rr-big', 'rr-small']);
  });
});

describe('scheduler plugins (unschedulable flush)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startCluster(undefined, 1_000);
    await h.store.create(objectKey('nodes', undefined, 'fl-a'), node('fl-a', { disk: 'hdd' }));
  });
  afterAll(async () => { await h?.stop(); });

  it('tries a waiting pod again after the flush interval with nothing changed, recording the same event once', async () => {
    await apply(h, pod('flushed', '100m', { nodeSelector: { disk: 'ssd' } }));
    const message = await unschedulable(h, 'flushed');
    expect(message).toBe("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: not eligible.");
    const key = objectKey('pods', 'default', 'flushed');
    await waitFor(() => (h.attempts.get(key) ?? 0) >= 3, 'two flushes', 20_000);
    const { items } = await request<ListResult>(h.bus, API.list, { kind: 'events', namespace: 'default', fieldSelector: 'involvedObject.name=flushed' });
    const failed = (items as unknown as { reason: string; count: number; message: string }[]).filter((e) => e.reason === 'FailedScheduling');
    expect(failed).toEqual([expect.objectContaining({ count: 1, message })]);
  });
});
