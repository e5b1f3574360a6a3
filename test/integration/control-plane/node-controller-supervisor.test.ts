/**
 * The node controller acts only while its kind supervisor runs, as every kind's controller does,
 * so it follows whatever starts and stops the supervisors (leadership, with several control
 * planes): against a real nats-server, a made controller does nothing, a started one judges
 * heartbeats from its start (not from when it was made), and a stopped one marks no pod.
 */
import { start, stop as stopActor } from 'nact';
import { connectBus, ObjectStore, type Bus } from '../../../bus';
import { spawnKindSupervisor } from '../../../actors';
import { nodeController } from '../../../actors/node/controller';
import { podModule } from '../../../actors/pod/kind';
import { objectKey, type Node, type Pod } from '../../../messages';
import { startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { waitFor } from '../../helpers/wait';

jest.setTimeout(60_000);

const GRACE_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the node controller under its supervisor', () => {
  let server: NatsServer;
  let bus: Bus;
  let store: ObjectStore;
  let system: ReturnType<typeof start> | undefined;

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await connectBus({ servers: server.url, name: 'node-controller-test' });
    store = await ObjectStore.open(bus);
  });
  afterAll(async () => {
    if (system) stopActor(system);
    await bus?.close();
    await server?.stop();
  });

  const nodeKey = objectKey('nodes', undefined, 'n1');
  const getNode = async () => (await store.get<Node>(nodeKey))!.object;
  const readyOf = (o: { status?: { conditions?: { type: string; status: string }[] } }) => o.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  const pod = (name: string): Pod => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }], tolerations: [{ operator: 'Exists' }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  });
  const getPod = async (name: string) => (await store.get<Pod>(objectKey('pods', 'default', name)))!.object;

  it('does nothing until started, gives a full grace period from its start, and nothing once stopped', async () => {
    const beat = new Date(Date.now() - 60_000).toISOString();
    await store.create(nodeKey, {
      apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', uid: 'uid-n1' }, spec: {},
      status: { conditions: [{ type: 'Ready', status: 'True', reason: 'NodeReady', message: 'ok', lastHeartbeatTime: beat, lastTransitionTime: beat }] },
    } satisfies Node);
    await store.create(objectKey('pods', 'default', 'a'), pod('a'));
    const controller = () => nodeController({
      store, bus, pods: podModule, gracePeriodMs: () => GRACE_MS, cidr: () => ({ clusterCidr: '10.244.0.0/16', nodeCidrMaskSize: 24 }),
    });
    const made = controller();
    await sleep(2 * GRACE_MS);
    expect((await getNode()).spec?.podCIDR).toBeUndefined();
    expect(readyOf(await getNode())).toBe('True');

    system = start();
    const startedAt = Date.now();
    const sup = spawnKindSupervisor(system, store, made);
    expect(await waitFor('a pod CIDR', async () => (await getNode()).spec?.podCIDR, 10_000, 50)).toBe('10.244.0.0/24');
    await waitFor('n1 Unknown', async () => readyOf(await getNode()) === 'Unknown', 10_000, 50);
    // Made two grace periods ago, started now: the grace period counts from the start.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(GRACE_MS - 100);
    await waitFor('a marked not ready', async () => readyOf(await getPod('a')) === 'False', 10_000, 50);

    await sup.stop();
    await store.create(objectKey('pods', 'default', 'b'), pod('b'));
    await sleep(2 * GRACE_MS);
    expect(readyOf(await getPod('b'))).toBe('True');

    // Started again (a new term): it picks up where the store is.
    const again = spawnKindSupervisor(system, store, controller());
    await waitFor('b marked not ready', async () => readyOf(await getPod('b')) === 'False', 10_000, 50);
    expect((await getNode()).spec?.podCIDR).toBe('10.244.0.0/24');
    await again.stop();
  });
});
