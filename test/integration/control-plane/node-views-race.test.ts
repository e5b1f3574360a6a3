/**
 * A pod deleted while a new leader starts its pods supervisor keeps its node's view for good, and
 * its node runs it on. The supervisor first learns the views bucket against the pods it lists
 * (NodePodViews.start, the controller's `prepare`), then starts the informer, which lists the pods
 * again: a pod deleted between the two listings is remembered as having a view, is never seen by
 * the informer (so no reconcile removes the view), and the 30 s resync only looks at the
 * informer's pods. The node agent reads its pods from the view, so it keeps (or, restarted,
 * starts again) the deleted pod's sandbox and container. Found by the chaos round (seed 2001 of
 * docs/chaos.md: a force-deleted pod's container still running 120 s later, after a leader kill).
 * Here the deletion is put between the two listings on purpose; the supervisor now hands the
 * informer's first listing to the controller (`listed`), which sweeps the views of pods not in it.
 */
import { spawn, start, stop, type Ref } from 'nact';
import { connectBus, ObjectStore, type Bus } from '../../../bus';
import { spawnKindSupervisor, type KindSupervisor } from '../../../actors/kind-supervisor';
import { podController } from '../../../actors/pod/controller';
import { NodePodViews, viewKey } from '../../../actors/pod/node-views';
import type { SchedulerMsg } from '../../../actors/scheduler/scheduler-actor';
import { objectKey, type Pod } from '../../../messages';
import { startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';

jest.setTimeout(30_000);

describe('the pods views of a new leader', () => {
  let server: NatsServer | undefined;
  let bus: Bus | undefined;
  let sup: KindSupervisor | undefined;
  const system = start();
  afterAll(async () => {
    await sup?.stop();
    stop(system);
    await bus?.close();
    await server?.stop();
  });

  it('drop the view of a pod deleted while the supervisor starts', async () => {
    server = await startNatsServer();
    bus = await connectBus({ servers: server.url, name: 'views-race' });
    const store = await ObjectStore.open(bus);
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u-1' },
      spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] },
    } as Pod;
    const key = objectKey('pods', 'default', 'p');
    await store.create(key, pod);
    // The old leader wrote the node's view.
    const before = await NodePodViews.open(bus, store);
    await before.start();
    await before.sync(key, pod);
    const view = viewKey('n1', 'default', 'p');
    expect(await before.views.get(view)).not.toBeNull();

    // The new leader: the pod is deleted after its views listing and before its informer's.
    const views = await NodePodViews.open(bus, store);
    // A bound pod never asks the scheduler.
    const scheduler = spawn(system, (s: object = {}) => s, 'scheduler') as unknown as Ref<SchedulerMsg>;
    const controller = podController(store, scheduler, views);
    sup = spawnKindSupervisor(system, store, {
      ...controller,
      prepare: async () => { await views.start(); await store.delete(key); },
    });
    await waitFor(async () => (await views.views.get(view)) === null, 'the deleted pod\'s view gone', 10_000);
  });
});
