/**
 * Service allocation across a control-plane crash: the built `mk control-plane` (a process of its
 * own) is SIGKILLed in the middle of a burst of 60 NodePort service creations and of deletions of
 * earlier services, so some allocation keys may be taken for services never written and some
 * services may be gone with their keys still held (the kill typically leaves a few such keys). Once the next control plane's repair has run
 * (a short period and in-flight grace, set through the environment), every key is held by a
 * stored service that holds it, every IP and port a service holds has its key, and none is held
 * twice.
 */
import { ObjectStore } from '../../../bus';
import { API, SERVICE_ALLOCATIONS_BUCKET, type Service } from '../../../messages';
import { heldKeys } from '../../../actors/service/allocations';
import { crashingControlPlane, type CrashingControlPlane } from '../../helpers/crashing-control-plane';
import { waitFor } from '../../helpers/wait';

jest.setTimeout(180_000);

let h: CrashingControlPlane;

beforeAll(async () => {
  h = await crashingControlPlane('svc-crash-test', { env: { MK_SERVICE_REPAIR_PERIOD_MS: '500', MK_SERVICE_REPAIR_GRACE_MS: '2000' } });
}, 300_000);

afterAll(async () => {
  await h?.close();
});

const api = <T>(verb: keyof typeof API, body: unknown) => h.api<T>(verb, body);
const svc = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { type: 'NodePort', ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] } });

it('a control plane killed mid-burst leaves no leaked or missing allocation after repair', async () => {
  await h.start();
  for (let i = 0; i < 10; i++) await api('apply', { object: svc(`old-${i}`) });
  let done = 0;
  const burst = [
    ...Array.from({ length: 60 }, (_, i) => api('apply', { object: svc(`burst-${i}`) }).then(() => { done++; })),
    ...Array.from({ length: 10 }, (_, i) => api('delete', { kind: 'services', name: `old-${i}` })),
  ].map((p) => p.catch(() => undefined));
  await waitFor('some of the burst written', async () => done >= 5, 30_000, 5);
  await h.kill();
  await Promise.all(burst);
  const objects = await ObjectStore.open(h.bus, { create: false });
  const keys = await ObjectStore.open(h.bus, { bucket: SERVICE_ALLOCATIONS_BUCKET, create: false });
  await h.start();
  const settled = await waitFor('allocations to match the services', async () => {
    const services = (await objects.list<Service>('services.>')).items.map((i) => i.object);
    const held = (await keys.list<{ name: string; uid: string }>('>')).items;
    const want = new Map(services.flatMap((s) => heldKeys(s).map((k) => [k, s.metadata.uid] as const)));
    const ok = held.length === want.size && held.every((k) => want.get(k.key) === k.object.uid);
    return ok ? { services, held } : undefined;
  }, 60_000, 200);
  const { services } = settled;
  expect(services.some((s) => s.metadata.name.startsWith('burst-'))).toBe(true);
  const all = services.flatMap((s) => heldKeys(s));
  expect(new Set(all).size).toBe(all.length);
  // The next control plane allocates as before.
  const next = (await api<{ object: Service }>('apply', { object: svc('after') })).object;
  expect(next.spec.ports!.every((p) => p.nodePort! >= 30000)).toBe(true);
});
