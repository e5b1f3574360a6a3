/** Journals of deleted pods are removed; those of live pods stay. Real nats-server. */
import { connectBus, JetStreamPersistenceEngine, ObjectStore, type Bus } from '../../../bus';
import { collectPodJournals } from '../../../actors/gc';
import { objectKey } from '../../../messages';
import { startNatsServer } from '../../helpers/nats-server';

jest.setTimeout(30_000);

const event = (data: unknown, sequenceNumber: number, key: string) =>
  ({ data, sequenceNumber, key, createdAt: Date.now(), isDeleted: false, tags: [] });

describe('journal garbage collection', () => {
  let server: Awaited<ReturnType<typeof startNatsServer>>;
  let bus: Bus;
  afterAll(async () => { await bus?.close(); await server?.stop(); });

  it('forgets the backoff journals and snapshots, written by a node, of pods that no longer exist', async () => {
    server = await startNatsServer();
    bus = await connectBus({ servers: server.url, name: 'gc-test' });
    const store = await ObjectStore.open(bus);
    const cp = await JetStreamPersistenceEngine.open(bus);
    // The journals belong to a node agent; the control plane collects them.
    const engine = await JetStreamPersistenceEngine.open(bus, { owner: 'node-n1', create: false });
    for (const uid of ['live', 'gone']) {
      const key = `pod-backoff-${uid}`;
      for (let n = 1; n <= 3; n++) await engine.persist(event({ n }, n, key));
      await engine.takeSnapshot({ data: { n: 3 }, sequenceNumber: 3, key, createdAt: Date.now() });
    }
    await engine.persist(event({ x: 1 }, 1, 'workflow-1'));
    await store.create(objectKey('pods', 'default', 'p'), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', uid: 'live' }, spec: {} });

    const keys = async (prefix?: string) => (await cp.keys(prefix)).map((k) => `${k.owner}/${k.key}`).sort();
    expect(await keys('pod-backoff-')).toEqual(['node-n1/pod-backoff-gone', 'node-n1/pod-backoff-live']);
    expect(await collectPodJournals(store, cp)).toEqual(['node-n1/pod-backoff-gone']);
    expect(await keys('pod-backoff-')).toEqual(['node-n1/pod-backoff-live']);
    expect(await keys()).toContain('node-n1/workflow-1');
    expect(await engine.events('pod-backoff-gone', 0)).toEqual([]);
    expect(await engine.latestSnapshot('pod-backoff-gone')).toBeFalsy();
    expect(await engine.events('pod-backoff-live', 0)).toHaveLength(3);
    expect(await collectPodJournals(store, cp)).toEqual([]);
  });
});
