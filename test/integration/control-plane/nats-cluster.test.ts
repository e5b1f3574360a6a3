/**
 * The control plane on a real 3-server NATS cluster (routes on loopback, JetStream clustered):
 * every stream and bucket it makes has 3 replicas; one server SIGKILLed, applies and lists keep
 * working; it comes back and catches up, and then another may die with nothing lost.
 */
import { connectBus, request, type Bus } from '../../../bus';
import { runControlPlane, type ControlPlane } from '../../../actors';
import { API, objectKey, type ApplyResult, type ListResult, type Node } from '../../../messages';
import { ObjectStore } from '../../../bus';
import { startNatsCluster, type NatsCluster } from '../../helpers/nats-cluster';
import { waitFor } from '../../helpers/nats-server';

jest.setTimeout(120_000);

const pod = (name: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '10m' } } }] },
});

describe('a 3-server NATS cluster', () => {
  let cluster: NatsCluster;
  let cp: ControlPlane;
  let bus: Bus;

  /** A request that is retried while the cluster moves its leaders (reads, and apply, which is idempotent). */
  // A deadline, not a count of tries: "JetStream system temporarily unavailable" comes back at
  // once while the servers elect a new meta leader, which can take several seconds.
  const retried = async <T>(subject: string, body: unknown): Promise<T> => {
    const deadline = Date.now() + 45_000;
    for (;;) {
      try {
        return await request<T>(bus, subject, body, { timeoutMs: 5000 });
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };
  const podNames = async (): Promise<string[]> => (await retried<ListResult>(API.list, { kind: 'pods' })).items.map((p) => p.metadata.name);
  const replicasCurrent = async (stream: string): Promise<number> => {
    const info = await bus.jsm.streams.info(stream);
    return 1 + (info.cluster?.replicas ?? []).filter((r) => r.current && !r.offline).length;
  };

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    cp = await runControlPlane({ bus: { servers: cluster.urls, name: 'cp-cluster', replicas: 3 } });
    bus = await connectBus({ servers: cluster.urls, name: 'cluster-client' });
  });
  afterAll(async () => {
    await cp?.stop();
    await bus?.close();
    await cluster?.stop();
  });

  it('keeps every stream and bucket the control plane makes on 3 servers', async () => {
    await waitFor(() => cp.isLeader(), 'the control plane to lead', 20_000);
    const store = await ObjectStore.open(bus);
    await store.create(objectKey('nodes', undefined, 'n1'), {
      apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', uid: 'n1' },
      status: { allocatable: { cpu: '8', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: new Date(Date.now() + 3600_000).toISOString() }] },
    } satisfies Node);
    await retried<ApplyResult>(API.apply, { object: pod('first') });
    // The pods' controller makes the nodes' views bucket once it has something to write.
    await waitFor(async () => (await bus.jsm.streams.names().next()).includes('KV_mk-node-pods'), 'the views bucket', 20_000);
    for (const stream of ['KV_mk-objects', 'KV_mk-node-pods', 'KV_mk-snapshots', 'MK_EVENTS', 'MK_JOURNAL']) {
      expect({ stream, replicas: (await bus.jsm.streams.info(stream)).config.num_replicas }).toEqual({ stream, replicas: 3 });
    }
  });

  it('goes on applying and listing with one server SIGKILLed, and the server catches up when it is back', async () => {
    const victim = 0;
    await cluster.kill(victim);
    // An apply whose reply was lost while the stream moved its leader is sent again, and finds
    // what the first one wrote: "unchanged" is then the right answer, never an error.
    for (let i = 0; i < 5; i++) expect(['created', 'unchanged']).toContain((await retried<ApplyResult>(API.apply, { object: pod(`while-down-${i}`) })).result);
    expect(await podNames()).toEqual(expect.arrayContaining(['first', 'while-down-0', 'while-down-4']));
    await waitFor(async () => (await retried<ListResult>(API.list, { kind: 'pods' })).items.every((p) => (p as { spec: { nodeName?: string } }).spec.nodeName), 'pods bound while a server is down', 30_000);

    await cluster.start(victim);
    await waitFor(async () => (await replicasCurrent('KV_mk-objects')) === 3, 'the restarted server to catch up', 60_000);
    // With it caught up, another may die: the data is on the two left.
    await cluster.kill(1);
    expect(['created', 'unchanged']).toContain((await retried<ApplyResult>(API.apply, { object: pod('after') })).result);
    expect(await podNames()).toEqual(expect.arrayContaining(['first', 'while-down-0', 'while-down-4', 'after']));
    await cluster.start(1);
  });
});
