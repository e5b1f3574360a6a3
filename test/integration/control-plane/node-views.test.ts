/**
 * The nodes' views of pods against a real nats-server: a view follows the pod it was made from,
 * and a copy of the pod older than that one (an informer's copy still behind the binding the
 * scheduler answered with) never takes the view away or writes it back.
 */
import { connectBus, ObjectStore, type Bus } from '../../../bus';
import { NodePodViews, viewKey } from '../../../actors/pod/node-views';
import type { Pod } from '../../../messages';
import { startNatsServer, type NatsServer } from '../../helpers/nats-server';

type Phase = NonNullable<Pod['status']>['phase'];

const pod = (nodeName?: string, phase: Phase = 'Pending', labels?: Record<string, string>): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1', ...(labels ? { labels } : {}) },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...(nodeName ? { nodeName } : {}) },
  status: { phase },
});
const notReady = (p: Pod): Pod => ({
  ...p, status: { ...p.status, conditions: [{ type: 'Ready', status: 'False', reason: 'NodeNotReady', message: 'Node is not ready' }] },
});

describe('node views', () => {
  let server: NatsServer;
  let bus: Bus;
  let objects: ObjectStore;
  let nodeViews: NodePodViews;
  const key = 'pods.default.p';
  const view = viewKey('n1', 'default', 'p');

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await connectBus({ servers: server.url, name: 'views-test' });
    objects = await ObjectStore.open(bus);
    nodeViews = await NodePodViews.open(bus, objects);
    await nodeViews.start();
  });
  afterAll(async () => {
    await bus?.close();
    await server?.stop();
  });

  it('ignores a copy older than the one the view was made from, and follows newer ones', async () => {
    await nodeViews.sync(key, pod('n1'), 5);
    expect((await nodeViews.views.get<Pod>(view))?.object.spec.nodeName).toBe('n1');

    // The informer's copy from before the binding: the view stays.
    await nodeViews.sync(key, pod(), 4);
    expect((await nodeViews.views.get<Pod>(view))?.object.spec.nodeName).toBe('n1');

    // A label, a later revision: written.
    await nodeViews.sync(key, pod('n1', 'Pending', { a: 'b' }), 7);
    expect((await nodeViews.views.get<Pod>(view))?.object.metadata.labels).toEqual({ a: 'b' });
    // The binding's copy again, now older than what the view holds: not written back.
    await nodeViews.sync(key, pod('n1'), 5);
    expect((await nodeViews.views.get<Pod>(view))?.object.metadata.labels).toEqual({ a: 'b' });

    // Gone: removed, whatever revision it was last made from.
    await nodeViews.sync(key, null);
    expect(await nodeViews.views.get<Pod>(view)).toBeNull();
  });

  it('holds no status: a status the node writes makes no view write', async () => {
    await nodeViews.sync(key, pod('n1'), 10);
    const first = await nodeViews.views.get<Pod>(view);
    expect(first?.object.status).toBeUndefined();
    await nodeViews.sync(key, pod('n1', 'Running'), 11);
    await nodeViews.sync(key, pod('n1', 'Succeeded'), 12);
    expect((await nodeViews.views.get<Pod>(view))?.revision).toBe(first?.revision);
  });

  it('carries the stored status while the NodeNotReady mark is on it, and drops it after', async () => {
    await nodeViews.sync(key, pod('n1', 'Running'), 20);
    await nodeViews.sync(key, notReady(pod('n1', 'Running')), 21);
    const marked = await nodeViews.views.get<Pod>(view);
    expect(marked?.object.status?.conditions?.[0]?.reason).toBe('NodeNotReady');
    await nodeViews.sync(key, pod('n1', 'Running'), 22);
    expect((await nodeViews.views.get<Pod>(view))?.object.status).toBeUndefined();
  });

  it('writes again a view with status left in the bucket by an earlier version', async () => {
    const revision = await objects.put(key, pod('n1', 'Running'));
    await nodeViews.views.put(view, pod('n1', 'Running'));
    await nodeViews.start();
    await nodeViews.sync(key, pod('n1', 'Running'), revision);
    expect((await nodeViews.views.get<Pod>(view))?.object.status).toBeUndefined();
  });
});
