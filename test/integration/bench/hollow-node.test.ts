/**
 * The scheduling benchmark's hollow nodes against a real nats-server and control plane: they
 * register and say Ready through the node api, the scheduler binds pods to them, they find the
 * pods in their views and report them Running, and a pod deleted gracefully goes once its hollow
 * node says it is gone.
 */
import { connectBus, ObjectStore, request, type Bus } from '../../../bus';
import { runControlPlane, type ControlPlane } from '../../../actors';
import { API, NODE_PODS_BUCKET, type GetResult, type ListResult, type Node, type Pod } from '../../../messages';
import { HollowNode, hollowNodeName } from '../../bench/hollow-node';
import { caught, startNatsServer, waitFor } from '../../helpers/nats-server';

jest.setTimeout(30_000);

const pod = (name: string): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: { containers: [{ name: 'main', image: 'busybox', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
});

describe('hollow nodes', () => {
  let server: Awaited<ReturnType<typeof startNatsServer>>;
  let cp: ControlPlane;
  let bus: Bus;
  let nodes: HollowNode[] = [];
  const getPod = async (name: string) => (await request<GetResult>(bus, API.get, { kind: 'pods', name })).object as Pod;

  beforeAll(async () => {
    server = await startNatsServer();
    cp = await runControlPlane({ bus: { servers: server.url, name: 'cp-test' } });
    // The nodes' views of pods are kept by the leader: start the nodes once it leads.
    await waitFor(() => cp.isLeader(), 'the control plane leads', 20_000);
    bus = await connectBus({ servers: server.url, name: 'hollow-test' });
    const views = await ObjectStore.open(bus, { bucket: NODE_PODS_BUCKET, create: false });
    nodes = [new HollowNode(bus, views, 0), new HollowNode(bus, views, 1)];
    for (const n of nodes) await n.start();
  });
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await cp?.stop();
    await bus?.close();
    await server?.stop();
  });

  it('register through the node api and are Ready at once', async () => {
    const listed = (await request<ListResult>(bus, API.list, { kind: 'nodes' })).items as Node[];
    expect(listed.map((n) => n.metadata.name).sort()).toEqual([hollowNodeName(0), hollowNodeName(1)]);
    for (const n of listed) {
      expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(n.status?.allocatable?.pods).toBe('110');
    }
  });

  it('run the pods bound to them at once, through their views and the node api', async () => {
    const names = ['h1', 'h2', 'h3', 'h4'];
    for (const n of names) await request(bus, API.apply, { object: pod(n) });
    const running = await waitFor(async () => {
      const ps = await Promise.all(names.map(getPod));
      return ps.every((p) => p.status?.phase === 'Running') ? ps : null;
    }, 'every pod Running');
    for (const p of running) {
      expect([hollowNodeName(0), hollowNodeName(1)]).toContain(p.spec.nodeName);
      expect(p.status?.containerStatuses?.[0]).toMatchObject({ name: 'main', ready: true, restartCount: 0 });
      // The scheduler's condition is kept beside the hollow node's.
      expect(p.status?.conditions?.map((c) => c.type).sort()).toEqual(['ContainersReady', 'Initialized', 'PodScheduled', 'Ready']);
    }
    expect(nodes.every((n) => n.errors === 0)).toBe(true);
  });

  it('let a pod deleted gracefully go once they say it is gone', async () => {
    const res = await request<{ result: string }>(bus, API.delete, { kind: 'pods', name: 'h1' });
    expect(res.result).toBe('terminating');
    await waitFor(async () => ((await caught(getPod('h1'))) instanceof Error ? true : null), 'pod h1 gone');
    expect((await getPod('h2')).status?.phase).toBe('Running');
  });
});
