/**
 * Deleting a namespace deletes every object in it, events included (Kubernetes' namespace
 * lifecycle removes all namespaced resources, and events are namespaced). mk keeps events in the
 * MK_EVENTS stream, which the namespace cascade does not touch (actors/namespace/controller.ts
 * skips kinds with a `source`), so a deleted namespace still lists its events for up to the
 * stream's max age of one hour, and a namespace made again under the same name shows them. Found
 * by the chaos round's `namespace` invariant (docs/chaos.md). Marked `failing` until the cascade
 * purges the namespace's events: then this test fails and the mark goes.
 */
import { EventRecorder, listEvents } from '../../../bus/events';
import { isNotFound, type ApplyResult, type GetResult, type KubeObject } from '../../../messages';
import { startControlPlane, type ControlPlaneFixture } from '../../helpers/control-plane';
import { caught, waitFor } from '../../helpers/nats-server';

jest.setTimeout(30_000);

describe('a deleted namespace', () => {
  let f: ControlPlaneFixture | undefined;
  beforeAll(async () => { f = await startControlPlane('cp-ns-events'); });
  afterAll(async () => { await f?.stop(); });

  it.failing('leaves no events behind', async () => {
    const api = f!.api;
    await api<ApplyResult>('apply', { object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'short-lived' } } });
    const pod = (await api<ApplyResult>('apply', {
      object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'short-lived' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    })).object as KubeObject;
    const rec = new EventRecorder(f!.bus, { component: 'mk-node', host: 'n1' });
    rec.record(pod, 'Normal', 'Pulled', 'Container image "busybox" already present on machine');
    await rec.flush();
    expect((await listEvents(f!.bus, { namespace: 'short-lived' })).items).toHaveLength(1);

    await api('delete', { kind: 'namespaces', name: 'short-lived' });
    await waitFor(async () => isNotFound(await caught(api<GetResult>('get', { kind: 'namespaces', name: 'short-lived' }))), 'the namespace gone', 15_000);
    expect((await listEvents(f!.bus, { namespace: 'short-lived' })).items).toEqual([]);
  });
});
