/**
 * A StatefulSet's revisions across control-plane crashes: the built `mk control-plane` (a process
 * of its own) is SIGKILLed as soon as a new template's revision is in the store, before the pods
 * of it are all made, and once more right after a rollback renumbered the old revision. Each new
 * control plane goes on from the store: a replica below the partition deleted while none ran
 * comes back at the old revision's template, no template ever has two revisions, the numbers stay
 * distinct, and the set ends at its rolled-back revision. A loop plays the nodes' agents through
 * the store, so pods go on starting while no control plane runs.
 */
import { ObjectStore } from '../../../bus';
import { objectKey, type ControllerRevision, type Pod, type StatefulSet } from '../../../messages';
import { crashingControlPlane, type CrashingControlPlane } from '../../helpers/crashing-control-plane';
import { fakeNode, playNodes, putNode, type NodeLoop } from '../../helpers/fake-nodes';
import { waitFor } from '../../helpers/wait';

jest.setTimeout(240_000);

const HASH = 'controller-revision-hash';
let h: CrashingControlPlane;
let store: ObjectStore;
let nodes: NodeLoop | undefined;

const manifest = (image: string, partition: number) => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' },
  spec: {
    serviceName: 'db', replicas: 3, selector: { matchLabels: { app: 'db' } },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition } },
    template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image }] } },
  },
});
const setNow = async () => (await store.get<StatefulSet>(objectKey('statefulsets', 'default', 'db')))?.object;
const podsNow = async () => (await store.list<Pod>('pods.default.>')).items.map((i) => i.object)
  .filter((p) => p.metadata.name.startsWith('db-') && !p.metadata.deletionTimestamp);
const revisionsNow = async () => (await store.list<ControllerRevision>('controllerrevisions.default.>')).items.map((i) => i.object)
  .filter((r) => r.metadata.name.startsWith('db-')).sort((a, b) => a.revision - b.revision);
const imageOf = (r: ControllerRevision) => r.data?.spec?.template?.spec.containers[0].image;
const isReady = (p: Pod) => !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
/** `db-0=v1@<revision>` for each pod, sorted. */
const shape = async () => (await podsNow()).map((p) => `${p.metadata.name}=${p.spec.containers[0].image}@${p.metadata.labels?.[HASH]}`).sort();
const allReady = async () => {
  const pods = await podsNow();
  return pods.length === 3 && pods.every(isReady);
};

beforeAll(async () => {
  h = await crashingControlPlane('sts-rev-crash-test');
}, 300_000);

afterAll(async () => {
  await nodes?.stop();
  await h?.close();
});

it('goes on from the revisions and pods in the store after a SIGKILL between its writes', async () => {
  await h.start();
  store = await ObjectStore.open(h.bus, { create: false });
  for (const n of ['n1', 'n2']) await putNode(store, fakeNode(n));
  nodes = playNodes(store, 'default', 100);
  await h.api('apply', { object: manifest('v1', 0) });
  const v1 = await waitFor('v1 ready', async () => {
    const revs = await revisionsNow();
    return revs.length === 1 && (await allReady()) && (await setNow())?.status?.currentRevision === revs[0].metadata.name ? revs[0].metadata.name : undefined;
  }, 60_000, 50);

  // A new template, partition 1: killed as soon as its revision is written.
  await h.api('apply', { object: manifest('v2', 1) });
  const v2 = await waitFor('v2 revision', async () => (await revisionsNow()).find((r) => imageOf(r) === 'v2')?.metadata.name, 60_000, 5);
  await h.kill();
  // With no control plane, db-0 (below the partition) goes.
  await store.delete(objectKey('pods', 'default', 'db-0'));
  await h.start();
  await waitFor('partitioned rollout', async () => (await allReady()) && (await shape()).join(' ') === [`db-0=v1@${v1}`, `db-1=v2@${v2}`, `db-2=v2@${v2}`].join(' '), 60_000, 50);
  expect((await revisionsNow()).map((r) => `${r.metadata.name}:${r.revision}`)).toEqual([`${v1}:1`, `${v2}:2`]);

  // Back to v1 everywhere: killed as soon as the old revision is renumbered.
  await h.api('apply', { object: manifest('v1', 0) });
  await waitFor('v1 renumbered', async () => (await revisionsNow()).find((r) => r.metadata.name === v1)?.revision === 3, 60_000, 5);
  await h.kill();
  await h.start();
  await waitFor('rolled back', async () => {
    const s = (await setNow())?.status;
    return (await allReady()) && s?.currentRevision === v1 && s.updateRevision === v1 && (await shape()).every((x) => x.endsWith(`=v1@${v1}`));
  }, 60_000, 50);
  const revs = await revisionsNow();
  expect(revs.map((r) => `${r.metadata.name}:${r.revision}`)).toEqual([`${v2}:2`, `${v1}:3`]);
  expect(new Set(revs.map(imageOf)).size).toBe(revs.length);
  await h.kill();
});
