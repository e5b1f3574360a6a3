/**
 * The endpoints controller against a real nats-server and an in-process control plane. Services
 * are written into the store as `services.<namespace>.<name>` (what the controller reads); pods
 * are created through the api, bound to a fake node, and their status (IP, Ready) is written as
 * their node would. A service over six pods gets an Endpoints object and a slice of them; pods
 * turning unready, terminating and gone move between the conditions and leave; a selector that
 * matches nothing gives empty ones; a service without a selector is left to its users; a slice
 * deleted by hand comes back; a node's zone reaches its pods' endpoints; nothing is written
 * when nothing changed; deleting the service takes both with it.
 */
import { randomUUID } from 'node:crypto';
import {
  ENDPOINTSLICE_CONTROLLER_NAME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, objectKey, timestamp,
  type Endpoints, type EndpointSlice, type GetResult, type ListResult, type Pod,
} from '../../../messages';
import { startControlPlane, type ControlPlaneFixture } from '../../helpers/control-plane';
import { fakeNode, putNode } from '../../helpers/fake-nodes';
import { waitFor } from '../../helpers/wait';

jest.setTimeout(90_000);

let f: ControlPlaneFixture;
beforeAll(async () => {
  f = await startControlPlane('cp-endpoints-test');
  await putNode(f.store, fakeNode('n1'));
});
afterAll(async () => { await f?.stop(); });

/** Writes a Service into the store as the Service kind would keep it. */
async function putService(name: string, spec: Record<string, unknown>, namespace = 'default'): Promise<string> {
  const uid = randomUUID();
  await f.store.create(objectKey('services', namespace, name), {
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, uid, creationTimestamp: timestamp() }, spec,
  });
  return uid;
}

const makePod = async (name: string, labels: Record<string, string>) => {
  await f.api('create', {
    object: {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, labels },
      spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http', containerPort: 8080 }] }] },
    },
  });
};

/** Writes the pod's status as its node would: Running on `ip`, Ready or not. */
const setStatus = (name: string, ip: string, ready: boolean) => f.store.mutate<Pod>(objectKey('pods', 'default', name), (cur) => ({
  ...cur, status: { ...cur.status, phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
}));

const endpointsOf = async (name: string): Promise<Endpoints | undefined> =>
  (await f.store.get<Endpoints>(objectKey('endpoints', 'default', name)))?.object;
const slicesOf = async (name: string): Promise<EndpointSlice[]> =>
  ((await f.api<ListResult>('list', { kind: 'endpointslices', labelSelector: `${LABEL_SERVICE_NAME}=${name}` })).items as unknown as EndpointSlice[]);
const readyIPs = (ep: Endpoints | undefined) => (ep?.subsets ?? []).flatMap((s) => s.addresses ?? []).map((a) => a.ip).sort();
const notReadyIPs = (ep: Endpoints | undefined) => (ep?.subsets ?? []).flatMap((s) => s.notReadyAddresses ?? []).map((a) => a.ip).sort();
const sliceEndpoints = (slices: EndpointSlice[]) => slices.flatMap((s) => s.endpoints);
const ipOf = (i: number) => `10.244.1.${10 + i}`;
const all = [0, 1, 2, 3, 4, 5].map(ipOf);

let webUid: string;

it('a service over six ready pods gets an Endpoints object and a slice of them, owned by the service', async () => {
  for (let i = 0; i < 6; i++) await makePod(`web-${i}`, { app: 'web' });
  await makePod('other', { app: 'db' });
  for (let i = 0; i < 6; i++) await setStatus(`web-${i}`, ipOf(i), true);
  await setStatus('other', '10.244.1.99', true);
  webUid = await putService('web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] });

  const ep = await waitFor('six ready addresses', async () => {
    const got = await endpointsOf('web');
    return readyIPs(got).length === 6 ? got : undefined;
  }, 30_000, 100);
  expect(readyIPs(ep)).toEqual(all);
  expect(ep.subsets).toHaveLength(1);
  expect(ep.subsets![0].ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
  expect(ep.subsets![0].addresses!.every((a) => a.nodeName === 'n1' && a.targetRef?.kind === 'Pod')).toBe(true);
  expect(ep.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: webUid, controller: true, blockOwnerDeletion: true }]);
  expect(ep.metadata.uid).toBeTruthy();

  const slices = await waitFor('a slice of six', async () => {
    const got = await slicesOf('web');
    return sliceEndpoints(got).length === 6 ? got : undefined;
  }, 30_000, 100);
  expect(slices).toHaveLength(1);
  const s = slices[0];
  expect(s.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
  expect(s.metadata.labels?.[LABEL_MANAGED_BY]).toBe(ENDPOINTSLICE_CONTROLLER_NAME);
  expect(s.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Service', uid: webUid, controller: true });
  expect(s.addressType).toBe('IPv4');
  expect(s.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
  expect(s.endpoints.map((e) => e.addresses[0]).sort()).toEqual(all);
  expect(s.endpoints.every((e) => e.conditions?.ready && e.conditions.serving && !e.conditions.terminating)).toBe(true);
});

it('writes nothing for a pod change that changes no endpoint', async () => {
  const epKey = objectKey('endpoints', 'default', 'web');
  const sliceKey = objectKey('endpointslices', 'default', (await slicesOf('web'))[0].metadata.name);
  const epWrites = (await f.store.history(epKey)).length;
  const sliceWrites = (await f.store.history(sliceKey)).length;
  // An annotation changes no endpoint; the readiness change after it is written, and once it
  // shows, the annotation's event has been handled (the pod informer delivers them in order).
  await f.store.mutate<Pod>(objectKey('pods', 'default', 'web-0'), (p) => ({ ...p, metadata: { ...p.metadata, annotations: { note: 'x' } } }));
  await setStatus('web-5', ipOf(5), false);
  await waitFor('web-5 not ready', async () => notReadyIPs(await endpointsOf('web')).length === 1
    && sliceEndpoints(await slicesOf('web')).some((e) => e.conditions?.ready === false), 30_000, 100);
  expect((await f.store.history(epKey)).length).toBe(epWrites + 1);
  expect((await f.store.history(sliceKey)).length).toBe(sliceWrites + 1);
});

it('pods becoming unready and ready again move between the conditions', async () => {
  await setStatus('web-4', ipOf(4), false);
  const ep = await waitFor('two not ready', async () => {
    const got = await endpointsOf('web');
    return notReadyIPs(got).length === 2 ? got : undefined;
  }, 30_000, 100);
  expect(notReadyIPs(ep)).toEqual([ipOf(4), ipOf(5)]);
  expect(readyIPs(ep)).toEqual(all.slice(0, 4));
  const unready = await waitFor('slice says so', async () => {
    const eps = sliceEndpoints(await slicesOf('web')).filter((e) => !e.conditions?.ready);
    return eps.length === 2 ? eps : undefined;
  }, 30_000, 100);
  expect(unready.every((e) => e.conditions?.serving === false && e.conditions.terminating === false)).toBe(true);

  await setStatus('web-4', ipOf(4), true);
  await setStatus('web-5', ipOf(5), true);
  await waitFor('all ready again', async () => readyIPs(await endpointsOf('web')).length === 6
    && sliceEndpoints(await slicesOf('web')).every((e) => e.conditions?.ready), 30_000, 100);
});

it('a terminating pod leaves the ready set at once and the slices say it terminates; a deleted pod leaves', async () => {
  // A bound pod is deleted gracefully: marked, and removed by its node later.
  await f.api('delete', { kind: 'pods', name: 'web-0' });
  const ep = await waitFor('web-0 out of the Endpoints', async () => {
    const got = await endpointsOf('web');
    return readyIPs(got).length === 5 ? got : undefined;
  }, 30_000, 100);
  expect(readyIPs(ep)).toEqual(all.slice(1));
  expect(notReadyIPs(ep)).toEqual([]);
  const terminating = await waitFor('web-0 terminating in its slice', async () =>
    sliceEndpoints(await slicesOf('web')).find((e) => e.targetRef?.name === 'web-0' && e.conditions?.terminating), 30_000, 100);
  expect(terminating.conditions).toEqual({ ready: false, serving: true, terminating: true });

  // Its node finishes the deletion.
  await f.store.delete(objectKey('pods', 'default', 'web-0'));
  await waitFor('web-0 gone from the slice', async () => {
    const eps = sliceEndpoints(await slicesOf('web'));
    return eps.length === 5 && !eps.some((e) => e.targetRef?.name === 'web-0');
  }, 30_000, 100);
  // A pod that finished leaves too.
  await f.store.mutate<Pod>(objectKey('pods', 'default', 'web-1'), (p) => ({ ...p, status: { ...p.status, phase: 'Succeeded' } }));
  await waitFor('web-1 gone', async () => readyIPs(await endpointsOf('web')).length === 4
    && sliceEndpoints(await slicesOf('web')).length === 4, 30_000, 100);
});

it('a slice deleted by hand comes back', async () => {
  const [s] = await slicesOf('web');
  await f.api('delete', { kind: 'endpointslices', name: s.metadata.name });
  const back = await waitFor('a slice again', async () => {
    const got = await slicesOf('web');
    return got.length === 1 && got[0].metadata.name !== s.metadata.name ? got[0] : undefined;
  }, 30_000, 100);
  expect(back.endpoints).toHaveLength(4);
});

it('a selector that matches nothing gives an Endpoints without subsets and a slice without endpoints', async () => {
  await putService('nobody', { selector: { app: 'nothing' }, ports: [{ port: 80 }] });
  const ep = await waitFor('the Endpoints', () => endpointsOf('nobody'), 30_000, 100);
  expect(ep.subsets).toBeUndefined();
  const slices = await waitFor('the slice', async () => {
    const got = await slicesOf('nobody');
    return got.length > 0 ? got : undefined;
  }, 30_000, 100);
  expect(slices).toHaveLength(1);
  expect(slices[0].endpoints).toEqual([]);
  const got = await f.api<GetResult>('get', { kind: 'endpoints', name: 'nobody' });
  expect(got.object.metadata.name).toBe('nobody');
});

it('leaves a service without a selector to its users: their Endpoints stay as written, no slice is made', async () => {
  await f.api('create', {
    object: {
      apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'external' },
      subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 5432 }] }],
    },
  });
  await putService('external', { ports: [{ port: 5432 }] });
  // A service with a selector made after it is handled; by then 'external' has been looked at too.
  await putService('later', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] });
  await waitFor('the later service handled', async () => readyIPs(await endpointsOf('later')).length === 4, 30_000, 100);
  const ep = await endpointsOf('external');
  expect(ep?.subsets).toEqual([{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 5432 }] }]);
  expect(ep?.metadata.ownerReferences).toBeUndefined();
  expect(await slicesOf('external')).toEqual([]);
});

it("a node's zone goes into its pods' endpoints", async () => {
  await putNode(f.store, fakeNode('n1', { 'topology.kubernetes.io/zone': 'zone-a' }));
  await waitFor('zone-a in the slice', async () => {
    const eps = sliceEndpoints(await slicesOf('later'));
    return eps.length === 4 && eps.every((e) => e.zone === 'zone-a');
  }, 30_000, 100);
});

it('deleting the service takes its Endpoints and slices with it', async () => {
  await f.store.delete(objectKey('services', 'default', 'web'));
  await waitFor('endpoints and slices gone', async () => !(await endpointsOf('web')) && (await slicesOf('web')).length === 0, 30_000, 100);
  // Another service's objects stay.
  expect(readyIPs(await endpointsOf('later'))).toHaveLength(4);
});
