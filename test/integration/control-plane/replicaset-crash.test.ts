/**
 * A ReplicaSet across control-plane crashes: the built `mk control-plane` (a process of its own) is
 * SIGKILLed several times while a set scales up from 0 to N in slow-start batches; each new control
 * plane goes on from what the store holds. In the end exactly N pods exist, every pod that existed
 * at a kill is among them (none made twice and then deleted as surplus), and the status says N.
 */
import { ObjectStore } from '../../../bus';
import { API, type GetResult, type Pod, type ReplicaSet } from '../../../messages';
import { crashingControlPlane, type CrashingControlPlane } from '../../helpers/crashing-control-plane';
import { waitFor } from '../../helpers/nats-server';

jest.setTimeout(180_000);

const N = 300;
const KILLS = 3;
let h: CrashingControlPlane;
/** Pods there were at each kill. */
const atKill: number[] = [];

const api = <T>(verb: keyof typeof API, body: unknown) => h.api<T>(verb, body);
/** The set's pods, read from the store itself (the api is down between a kill and a restart). */
const podsOf = async (): Promise<Pod[]> => {
  const store = await ObjectStore.open(h.bus, { create: false });
  return (await store.list<Pod>('pods.default.>')).items.map((i) => i.object).filter((p) => p.metadata.labels?.app === 'crash');
};

beforeAll(async () => {
  h = await crashingControlPlane('rs-crash-test');
}, 300_000);

afterAll(async () => {
  process.stdout.write(`pods at each kill: ${atKill.join(', ')} of ${N}\n`);
  await h?.close();
});

it('a control plane killed again and again mid-scale ends with exactly N pods, none made twice', async () => {
  await h.start();
  await api('apply', {
    object: {
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'crash' },
      spec: { replicas: N, selector: { matchLabels: { app: 'crash' } }, template: { metadata: { labels: { app: 'crash' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    },
  });
  const seen = new Set<string>();
  for (let k = 0; k < KILLS; k++) {
    // Killed once this control plane has made some pods (a different number each time, so the
    // kill falls inside a batch as well as between two), and before it is done.
    const floor = (await podsOf()).length + [0, 6, 20][k % 3];
    await waitFor(async () => (await podsOf()).length > floor, `pods made after restart ${k}`, 60_000);
    await h.kill();
    const now = await podsOf();
    atKill.push(now.length);
    for (const p of now) seen.add(p.metadata.name);
    await h.start();
  }
  const final = await waitFor(async () => {
    const pods = await podsOf();
    const rs = (await api<GetResult>('get', { kind: 'replicasets', name: 'crash' })).object as ReplicaSet;
    return pods.length === N && rs.status?.replicas === N ? pods : undefined;
  }, `${N} pods and status`, 120_000);
  const names = new Set(final.map((p) => p.metadata.name));
  expect(names.size).toBe(N);
  for (const n of seen) expect(names.has(n)).toBe(true);
  // Some kill came before the set was done, or the test proved nothing.
  expect(Math.min(...atKill)).toBeLessThan(N);
  await h.kill();
});
