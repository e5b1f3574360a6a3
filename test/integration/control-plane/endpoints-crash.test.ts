/**
 * The endpoints controller under load and faults: the built `mk control-plane` (a process of its
 * own) over a real nats-server. A burst of 20 services over 10 pods each is written while the
 * control plane is SIGKILLed twice (halfway through the pods, and halfway through turning half
 * of them unready, the rest written while none runs); each new control plane goes on from what the store holds. Then the
 * nats-server is SIGKILLed and started again on its store while another burst is written and some
 * services are deleted. Every time, each service ends with one Endpoints object and exactly one
 * slice holding each of its pods once, with the right conditions, and nothing is left of deleted
 * services. Services and pods are written into the store as their kinds and nodes would.
 */
import { randomUUID } from 'node:crypto';
import { ObjectStore } from '../../../bus';
import { LABEL_SERVICE_NAME, objectKey, timestamp, type Endpoints, type EndpointSlice, type Pod } from '../../../messages';
import { crashingControlPlane, type CrashingControlPlane } from '../../helpers/crashing-control-plane';
import { fakeNode, putNode } from '../../helpers/fake-nodes';
import { waitFor } from '../../helpers/wait';

jest.setTimeout(240_000);

const SERVICES = 20;
const PODS = 10;
let h: CrashingControlPlane;
let store: ObjectStore;
/** Addresses (first kill) and unready addresses (second kill) the Endpoints held at each kill. */
const atKill: number[] = [];

beforeAll(async () => {
  h = await crashingControlPlane('eps-crash');
}, 300_000);

afterAll(async () => {
  process.stdout.write(`addresses, then unready addresses, at the kills: ${atKill.join(', ')} of ${SERVICES * PODS}, ${SERVICES * PODS / 2}\n`);
  await h?.close();
});

const putService = (name: string) => store.create(objectKey('services', 'default', name), {
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', uid: randomUUID(), creationTimestamp: timestamp() },
  spec: { selector: { svc: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
});

const podStatus = (ip: string, ready: boolean): Pod['status'] => ({
  phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
});

/** Writes a bound, running pod of service `svc` as its node would have it. */
const putPod = (svc: string, i: number, ip: string) => store.create(objectKey('pods', 'default', `${svc}-${i}`), {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: `${svc}-${i}`, namespace: 'default', uid: randomUUID(), labels: { svc }, creationTimestamp: timestamp() },
  spec: { nodeName: 'n1', restartPolicy: 'Always', containers: [{ name: 'c', image: 'busybox' }] },
  status: podStatus(ip, true),
} satisfies Pod);

const setReady = (name: string, ready: boolean) => store.mutate<Pod>(objectKey('pods', 'default', name), (p) => ({
  ...p, status: podStatus(p.status!.podIP!, ready),
}));

/**
 * A burst: every service at once, then their pods one at a time, round the services (so the
 * controller works on all of them while the pods come). `halfway` runs once half the pods are
 * written, and the rest follow when it resolves.
 */
async function burst(prefix: string, subnet: number, halfway: () => Promise<void> = async () => undefined): Promise<void> {
  await Promise.all(Array.from({ length: SERVICES }, (_, s) => putService(`${prefix}-${s}`)));
  for (let i = 0; i < PODS; i++) {
    if (i === PODS / 2) await halfway();
    for (let s = 0; s < SERVICES; s++) await putPod(`${prefix}-${s}`, i, `10.${subnet}.${s}.${i + 1}`);
  }
}

const listAll = async <T>(plural: string): Promise<T[]> => (await store.list<T>(`${plural}.default.>`)).items.map((i) => i.object);
/** The addresses of every Endpoints object: ready ones, or with `notReady` those not ready. */
const addresses = async (notReady = false): Promise<number> => (await listAll<Endpoints>('endpoints'))
  .flatMap((e) => e.subsets ?? []).reduce((n, x) => n + ((notReady ? x.notReadyAddresses : x.addresses) ?? []).length, 0);

/**
 * Null unless every service named `${prefix}-<n>` has its Endpoints (ready pods but those in
 * `unready` in addresses, those in notReadyAddresses) and exactly one slice holding each of its
 * pods once with the same readiness, and no slice or Endpoints is left of services in `gone`.
 */
async function converged(prefix: string, unready: Set<string>, gone: string[] = []): Promise<true | null> {
  const eps = await listAll<Endpoints>('endpoints');
  const slices = await listAll<EndpointSlice>('endpointslices');
  for (let s = 0; s < SERVICES; s++) {
    const name = `${prefix}-${s}`;
    if (gone.includes(name)) {
      if (eps.some((e) => e.metadata.name === name) || slices.some((x) => x.metadata.labels?.[LABEL_SERVICE_NAME] === name)) return null;
      continue;
    }
    const ep = eps.find((e) => e.metadata.name === name);
    const pods = Array.from({ length: PODS }, (_, i) => `${name}-${i}`);
    const ready = (ep?.subsets ?? []).flatMap((x) => x.addresses ?? []).map((a) => a.targetRef?.name).sort();
    const notReady = (ep?.subsets ?? []).flatMap((x) => x.notReadyAddresses ?? []).map((a) => a.targetRef?.name).sort();
    if (JSON.stringify(ready) !== JSON.stringify(pods.filter((p) => !unready.has(p)).sort())) return null;
    if (JSON.stringify(notReady) !== JSON.stringify(pods.filter((p) => unready.has(p)).sort())) return null;
    const mine = slices.filter((x) => x.metadata.labels?.[LABEL_SERVICE_NAME] === name);
    if (mine.length !== 1) return null;
    const inSlice = mine[0].endpoints.map((e) => `${e.targetRef?.name}:${e.conditions?.ready}`).sort();
    if (JSON.stringify(inSlice) !== JSON.stringify(pods.map((p) => `${p}:${!unready.has(p)}`).sort())) return null;
  }
  return true;
}

it('a burst of 20 services over 10 pods each converges across two control-plane SIGKILLs', async () => {
  await h.start();
  store = await ObjectStore.open(h.bus, { create: false });
  await putNode(store, fakeNode('n1'));
  // Killed halfway through the pods, once the controller has taken some in; the rest are
  // written while no control plane runs.
  const killHalfway = async (what: string, progress: () => Promise<number>): Promise<void> => {
    await waitFor(what, async () => (await progress()) > 0, 60_000, 10);
    await h.kill();
    atKill.push(await progress());
  };
  await burst('s', 1, () => killHalfway('the first addresses', () => addresses()));
  await h.start();

  // Half the pods of every service turn unready, one at a time; killed again halfway.
  const unready: string[] = [];
  for (let i = 0; i < PODS; i += 2) for (let s = 0; s < SERVICES; s++) unready.push(`s-${s}-${i}`);
  for (const [n, p] of unready.entries()) {
    if (n === unready.length / 2) await killHalfway('some unready addresses', () => addresses(true));
    await setReady(p, false);
  }
  await h.start();

  await waitFor('every service converged', () => converged('s', new Set(unready)), 120_000, 200);
  expect(await listAll('endpointslices')).toHaveLength(SERVICES);
  expect(h.exited()).toBe(false);
  // The kills came in the middle of the work, or the test proved nothing.
  expect(atKill[0]).toBeLessThanOrEqual(SERVICES * PODS / 2);
  expect(atKill[1]).toBeLessThanOrEqual(SERVICES * PODS / 4);
});

it('another burst and deletions converge across a nats-server SIGKILL and restart', async () => {
  const unready = new Set<string>();
  for (let s = 0; s < SERVICES; s++) for (let i = 0; i < PODS; i += 2) unready.add(`s-${s}-${i}`);
  const gone = ['s-0', 's-1', 's-2', 's-3', 's-4'];
  const writing = Promise.allSettled([
    burst('t', 2),
    ...gone.map((g) => store.delete(objectKey('services', 'default', g))),
  ]);
  await waitFor('the first Endpoints of the burst', async () => (await listAll<Endpoints>('endpoints'))
    .some((e) => e.metadata.name.startsWith('t-')), 60_000, 10);
  h.server.kill();
  await h.server.restart();
  // What the test could not write while the server was down is written again.
  for (const r of await writing) if (r.status === 'rejected') await waitFor('the burst written', () => writeMissing(gone).then(() => true, () => null), 60_000, 500);

  await waitFor('both bursts converged', async () => (await converged('s', unready, gone)) && converged('t', new Set()), 120_000, 200);
  expect(await listAll('endpointslices')).toHaveLength(2 * SERVICES - gone.length);
  expect(h.exited()).toBe(false);
});

/** Writes whatever of the second burst is missing and deletes what should be gone. */
async function writeMissing(gone: string[]): Promise<void> {
  for (let s = 0; s < SERVICES; s++) {
    const name = `t-${s}`;
    if (!(await store.get(objectKey('services', 'default', name)))) await putService(name);
    for (let i = 0; i < PODS; i++) {
      if (!(await store.get(objectKey('pods', 'default', `${name}-${i}`)))) await putPod(name, i, `10.2.${s}.${i + 1}`);
    }
  }
  for (const g of gone) if (await store.get(objectKey('services', 'default', g))) await store.delete(objectKey('services', 'default', g));
}
