/**
 * The scheduler under a burst, against a real nats-server: decisions come from its cache of nodes
 * and pods, and a burst of pods applied at once never gets more room than a node has (the
 * bindings it made count before its cache has seen them).
 */
import { connectBus, ObjectStore, request, type Bus } from '../../../bus';
import { runControlPlane, type ControlPlane } from '../../../actors';
import { API, objectKey, type ListResult, type Node, type Pod } from '../../../messages';
import { startNatsServer, waitFor } from '../../helpers/nats-server';

jest.setTimeout(30_000);

const node = (name: string, cpu: string): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, uid: name },
  status: {
    allocatable: { cpu, memory: '4Gi', pods: '110' },
    conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: new Date(Date.now() + 3600_000).toISOString() }],
  },
});
const pod = (name: string, cpu: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { burst: 'cpu' } },
  spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu } } }] },
});

describe('scheduler', () => {
  let server: Awaited<ReturnType<typeof startNatsServer>>;
  let cp: ControlPlane;
  let bus: Bus;

  beforeAll(async () => {
    server = await startNatsServer();
    cp = await runControlPlane({ bus: { servers: server.url, name: 'cp-sched' } });
    bus = await connectBus({ servers: server.url, name: 'sched-client' });
  });
  afterAll(async () => {
    await cp?.stop();
    await bus?.close();
    await server?.stop();
  });

  it('gives a burst no more cpu than the nodes have, and says why to the rest', async () => {
    const store = await ObjectStore.open(bus);
    await store.create(objectKey('nodes', undefined, 'small-a'), node('small-a', '2'));
    await store.create(objectKey('nodes', undefined, 'small-b'), node('small-b', '1'));
    // 2 + 1 cores: three pods of 900m fit (two on a, one on b); the other five do not.
    await Promise.all(Array.from({ length: 8 }, (_, i) => request(bus, API.apply, { object: pod(`p${i}`, '900m') })));
    const settled = await waitFor(async () => {
      const { items } = await request<ListResult>(bus, API.list, { kind: 'pods', labelSelector: 'burst=cpu' });
      const pods = items as Pod[];
      const decided = pods.filter((p) => p.spec.nodeName || p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False'));
      return decided.length === 8 ? pods : null;
    }, 'every pod decided', 20_000);
    const on = (n: string) => settled.filter((p) => p.spec.nodeName === n).length;
    expect([on('small-a'), on('small-b')]).toEqual([2, 1]);
    const waiting = settled.filter((p) => !p.spec.nodeName);
    expect(waiting).toHaveLength(5);
    for (const p of waiting) {
      expect(p.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message).toBe('0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible.');
    }
  });
});
