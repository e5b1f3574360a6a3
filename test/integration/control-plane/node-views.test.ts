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

const pod = (nodeName?: string, phase: Phase = 'Pending'): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...(nodeName ? { nodeName } : {}) },
  status: { phase },
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

    // The node's status, a later revision: written.
    await nodeViews.sync(key, pod('n1', 'Running'), 7);
    expect((await nodeViews.views.get<Pod>(view))?.object.status?.phase).toBe('Running');
    // The binding's copy again, now older than what the view holds: not written back.
    await nodeViews.sync(key, pod('n1'), 5);
    expect((await nodeViews.views.get<Pod>(view))?.object.status?.phase).toBe('Running');

    // Gone: removed, whatever revision it was last made from.
    await nodeViews.sync(key, null);
    expect(await nodeViews.views.get<Pod>(view)).toBeNull();
  });
});
