/**
 * A Deployment across control-plane crashes: the built `mk control-plane` (a process of its own) is
 * SIGKILLed twice in the middle of a rolling update; each new control plane goes on from what the
 * store holds. In the end the new template's one ReplicaSet has every replica, the old one none, no
 * second set was made for the same template, and the sets' replicas never went beyond
 * replicas + maxSurge (sampled from the store throughout). A loop plays the node, writing pods
 * Ready through the store, so readiness goes on while no control plane runs.
 */
import { ObjectStore } from '../../../bus';
import { API, objectKey, type Deployment, type Pod, type ReplicaSet } from '../../../messages';
import { crashingControlPlane, type CrashingControlPlane } from '../../helpers/crashing-control-plane';
import { waitFor } from '../../helpers/nats-server';

jest.setTimeout(180_000);

const N = 10;
const SURGE = 2;
let h: CrashingControlPlane;
let store: ObjectStore;
const loops = { stop: false, node: Promise.resolve(), sampler: Promise.resolve() };
let maxTotal = 0;

const api = <T>(verb: keyof typeof API, body: unknown) => h.api<T>(verb, body);
const setsNow = async () => (await store.list<ReplicaSet>('replicasets.default.>')).items.map((i) => i.object)
  .filter((r) => r.metadata.name.startsWith('roll-'));
const deployNow = async () => (await store.get<Deployment>(objectKey('deployments', 'default', 'roll')))?.object;
const image = (r: ReplicaSet) => r.spec.template.spec.containers[0].image;

beforeAll(async () => {
  h = await crashingControlPlane('deploy-crash-test');
}, 300_000);

afterAll(async () => {
  loops.stop = true;
  await loops.node;
  await loops.sampler;
  await h?.close();
});

it('a control plane killed twice mid-rollout finishes it, with one set per template and surge kept', async () => {
  await h.start();
  store = await ObjectStore.open(h.bus, { create: false });
  loops.node = (async () => {
    while (!loops.stop) {
      const pods = (await store.list<Pod>('pods.default.>')).items;
      for (const { key, object: p } of pods) {
        if (p.metadata.deletionTimestamp || p.status?.phase === 'Running') continue;
        await store.mutate<Pod>(key, (cur) => ({
          ...cur, status: { ...cur.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] },
        })).catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const spec = (img: string) => ({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'roll' },
    spec: {
      replicas: N, minReadySeconds: 1, selector: { matchLabels: { app: 'roll' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: SURGE, maxUnavailable: 0 } },
      template: { metadata: { labels: { app: 'roll' } }, spec: { containers: [{ name: 'c', image: img }] } },
    },
  });
  await api('apply', { object: spec('v1') });
  const done = (img: string) => async () => {
    const d = await deployNow();
    const s = d?.status;
    return d && d.spec.template.spec.containers[0].image === img && s?.observedGeneration === d.metadata.generation
      && s?.updatedReplicas === N && s.replicas === N && s.availableReplicas === N ? d : undefined;
  };
  await waitFor(done('v1'), 'v1 rolled out', 60_000);
  loops.sampler = (async () => {
    while (!loops.stop) {
      maxTotal = Math.max(maxTotal, (await setsNow()).reduce((n, r) => n + (r.spec.replicas ?? 0), 0));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await api('apply', { object: spec('v2') });
  const newAt: number[] = [];
  for (let k = 0; k < 2; k++) {
    const floor = newAt[k - 1] ?? 0;
    await waitFor(async () => {
      const fresh = (await setsNow()).find((r) => image(r) === 'v2');
      return (fresh?.spec.replicas ?? 0) > floor;
    }, `new set past ${floor} replicas`, 60_000);
    await h.kill();
    const sets = await setsNow();
    newAt.push(sets.find((r) => image(r) === 'v2')?.spec.replicas ?? 0);
    await h.start();
  }
  await waitFor(done('v2'), 'v2 rolled out', 120_000);
  const sets = await setsNow();
  expect(sets).toHaveLength(2);
  expect(sets.find((r) => image(r) === 'v2')?.spec.replicas).toBe(N);
  expect(sets.find((r) => image(r) === 'v1')?.spec.replicas).toBe(0);
  expect(maxTotal).toBeLessThanOrEqual(N + SURGE);
  // The first kill came before the rollout was done, or the test proved nothing.
  expect(newAt[0]).toBeLessThan(N);
  const pods = (await store.list<Pod>('pods.default.>')).items.filter((i) => !i.object.metadata.deletionTimestamp);
  expect(pods).toHaveLength(N);
  await h.kill();
});
