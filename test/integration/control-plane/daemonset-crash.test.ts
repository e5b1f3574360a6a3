/**
 * A DaemonSet across control-plane crashes: the built `mk control-plane` (a process of its own) is
 * SIGKILLed twice in the middle of a rolling update; each new control plane goes on from the pods
 * and nodes the store holds. In the end every node runs exactly one pod of the new template, and
 * throughout (sampled from the store) no more than maxUnavailable nodes lacked a ready pod and no
 * node ever ran two live pods of the set. A loop plays the nodes' agents through the store, so
 * pods go on starting and terminating while no control plane runs.
 */
import { ObjectStore } from '../../../bus';
import { API, objectKey, type DaemonSet, type Pod } from '../../../messages';
import { crashingControlPlane, type CrashingControlPlane } from '../../helpers/crashing-control-plane';
import { fakeNode, playNodes, putNode, type NodeLoop } from '../../helpers/fake-nodes';
import { waitFor } from '../../helpers/wait';

jest.setTimeout(180_000);

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'];
const MAX_UNAVAILABLE = 1;
const HASH = 'controller-revision-hash';
let h: CrashingControlPlane;
let store: ObjectStore;
let nodes: NodeLoop | undefined;
let sampling = false;
let sampler = Promise.resolve();
let worstUnavailable = 0;
let worstPerNode = 0;

const api = <T>(verb: keyof typeof API, body: unknown) => h.api<T>(verb, body);
const dsNow = async () => (await store.get<DaemonSet>(objectKey('daemonsets', 'default', 'agent')))?.object;
const podsNow = async () => (await store.list<Pod>('pods.default.>')).items.map((i) => i.object)
  .filter((p) => p.metadata.name.startsWith('agent-') && !p.metadata.deletionTimestamp);
const isReady = (p: Pod) => !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

beforeAll(async () => {
  h = await crashingControlPlane('ds-crash-test');
}, 300_000);

afterAll(async () => {
  sampling = false;
  await sampler;
  await nodes?.stop();
  await h?.close();
});

it('a control plane killed twice mid-rollout finishes it, one pod per node, within maxUnavailable', async () => {
  await h.start();
  store = await ObjectStore.open(h.bus, { create: false });
  for (const n of NODES) await putNode(store, fakeNode(n));
  nodes = playNodes(store, 'default', 400);
  const spec = (img: string) => ({
    apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: MAX_UNAVAILABLE } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: img }] } },
    },
  });
  const done = (img: string) => async () => {
    const ds = await dsNow();
    const s = ds?.status;
    const pods = await podsNow();
    return ds && ds.spec.template.spec.containers[0].image === img && s?.observedGeneration === ds.metadata.generation
      && s?.updatedNumberScheduled === NODES.length && s?.numberAvailable === NODES.length && pods.length === NODES.length ? ds : undefined;
  };
  await api('apply', { object: spec('v1') });
  await waitFor('v1 on every node', done('v1'), 60_000, 100);
  sampling = true;
  sampler = (async () => {
    while (sampling) {
      const pods = await podsNow();
      const served = new Set(pods.filter(isReady).map((p) => p.spec.nodeName));
      worstUnavailable = Math.max(worstUnavailable, NODES.length - served.size);
      const perNode = new Map<string, number>();
      for (const p of pods) perNode.set(p.spec.nodeName ?? '', (perNode.get(p.spec.nodeName ?? '') ?? 0) + 1);
      worstPerNode = Math.max(worstPerNode, ...perNode.values());
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await api('apply', { object: spec('v2') });
  const newAt: number[] = [];
  for (let k = 0; k < 2; k++) {
    const floor = newAt[k - 1] ?? 0;
    await waitFor(`more than ${floor} v2 pods`, async () => (await podsNow()).filter((p) => p.spec.containers[0].image === 'v2').length > floor, 60_000, 20);
    await h.kill();
    newAt.push((await podsNow()).filter((p) => p.spec.containers[0].image === 'v2').length);
    await h.start();
  }
  const ds = await waitFor('v2 on every node', done('v2'), 120_000, 100);
  sampling = false;
  await sampler;
  const pods = await podsNow();
  expect(pods.map((p) => p.spec.nodeName).sort()).toEqual(NODES);
  expect(new Set(pods.map((p) => p.metadata.labels?.[HASH])).size).toBe(1);
  expect(pods.every((p) => p.spec.containers[0].image === 'v2')).toBe(true);
  expect(ds.status?.numberMisscheduled).toBe(0);
  expect(worstUnavailable).toBeLessThanOrEqual(MAX_UNAVAILABLE);
  expect(worstPerNode).toBe(1);
  // The first kill came before the rollout was done, or the test proved nothing.
  expect(newAt[0]).toBeLessThan(NODES.length);
  await h.kill();
});
