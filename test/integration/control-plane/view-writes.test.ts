/**
 * How often a pod's view is written on its way to Running, against a real control plane process
 * (`bin/run.js control-plane`, so it needs `npm run build`) on a real nats-server: once when it is
 * bound, and never for the statuses its node reports (the view carries no status), so the node
 * is not woken by its own writes. The node is a Node object in the store; its status reports go
 * through the real node api client, as the node agent's do.
 */
import * as fs from 'node:fs';
import { connectBus, ObjectStore, request, type Bus } from '../../../bus';
import { viewKey } from '../../../actors/pod/node-views';
import { ControlPlaneClient } from '../../../node-agent/node/control-plane';
import { API, NODE_PODS_BUCKET, objectKey, type ApplyResult, type Node, type Pod } from '../../../messages';
import { controlPlaneDataDir, spawnControlPlane, type ControlPlaneProcess } from '../../helpers/control-planes';
import { startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';

jest.setTimeout(60_000);

const node: Node = {
  apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', uid: 'n1' },
  status: {
    allocatable: { cpu: '64', memory: '64Gi', pods: '1000' },
    // A heartbeat far ahead: the node lifecycle leaves it Ready for the whole test.
    conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: new Date(Date.now() + 3600_000).toISOString() }],
  },
};

describe('view writes per pod', () => {
  let server: NatsServer;
  let dataDir: string;
  let bus: Bus;
  let cp: ControlPlaneProcess | undefined;

  beforeAll(async () => {
    server = await startNatsServer();
    dataDir = controlPlaneDataDir([server.url]);
    bus = await connectBus({ servers: server.url, name: 'view-writes-test' });
  });
  afterAll(async () => {
    await cp?.stop();
    await bus?.close();
    await server?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes a view once on binding and not for the statuses the node reports', async () => {
    const store = await ObjectStore.open(bus);
    await store.put(objectKey('nodes', undefined, 'n1'), node);
    cp = await spawnControlPlane(dataDir);
    const key = viewKey('n1', 'default', 'p');
    const writes: Pod[] = [];
    // The leader makes the bucket: watched once it is there.
    const watch = await waitFor(async () => {
      const views = await ObjectStore.open(bus, { bucket: NODE_PODS_BUCKET, create: false }).catch(() => undefined);
      return views?.watch<Pod>(key, {}, (ev) => { if (ev.object) writes.push(ev.object); }).catch(() => undefined);
    }, 'a watch on the views bucket', 20_000);
    try {
      await request<ApplyResult>(bus, API.apply, {
        object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      }, { timeoutMs: 10_000 });
      await waitFor(async () => writes.length > 0, 'the view of the bound pod', 20_000);
      const bound = writes[0];

      // The node reports Pending, then Running, as its agent does.
      const client = new ControlPlaneClient(bus, 'n1');
      const now = new Date().toISOString();
      await client.podStatus(bound, { phase: 'Pending', hostIP: '10.0.0.1' });
      await client.podStatus(bound, {
        phase: 'Running', hostIP: '10.0.0.1', podIP: '10.244.0.2', startTime: now,
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
      });
      const podKey = objectKey('pods', 'default', 'p');
      await waitFor(async () => (await store.get<Pod>(podKey))?.object.status?.phase === 'Running', 'the status stored', 10_000);
      // A label after the statuses: the control plane handles a pod's changes in order, so once the
      // view shows the label, every view write the statuses caused has happened.
      await store.mutate<Pod>(podKey, (p) => { p.metadata.labels = { after: 'status' }; return p; });
      await waitFor(async () => writes.some((w) => w.metadata.labels?.after === 'status'), 'the labelled view', 20_000);

      console.log(`view writes for one pod bound, reported Pending and Running, then labelled: ${writes.length}`);
      expect(writes.map((w) => w.metadata.labels?.after ?? 'bound')).toEqual(['bound', 'status']);
      expect(writes.every((w) => w.status === undefined)).toBe(true);
    } finally {
      await watch.stop();
    }
  });
});
