/**
 * A StatefulSet's history as ControllerRevisions against a real nats-server and an in-process
 * control plane: one revision per template (`<set>-<hash>`, numbered in order, its name on the
 * pods), a replica below the partition deleted mid-update coming back at the old revision's
 * template, a rollback reusing and renumbering the old revision, pruning beyond
 * revisionHistoryLimit, the revisions going with the set, refused edits, and a control plane
 * stopped between its revision write and its pod writes going on from what the store holds. No
 * node agent runs: a loop plays the nodes' agents (test/helpers/fake-nodes.ts).
 */
import { runControlPlane } from '../../../actors';
import { newControllerRevision, type RevisionOwner } from '../../../actors/controller-revision/history';
import { statefulSetTemplateHash } from '../../../actors/statefulset/reconcile';
import { objectKey, type ApplyResult, type ControllerRevision, type GetResult, type ListResult, type Pod, type StatefulSet } from '../../../messages';
import { caught } from '../../helpers/nats-server';
import { waitFor } from '../../helpers/wait';
import { startControlPlane, type ControlPlaneFixture } from '../../helpers/control-plane';
import { fakeNode, playNodes, putNode, type NodeLoop } from '../../helpers/fake-nodes';

jest.setTimeout(180_000);

let f: ControlPlaneFixture;
let nodes: NodeLoop | undefined;
const HASH = 'controller-revision-hash';

beforeAll(async () => {
  f = await startControlPlane('cp-sts-rev-test');
  for (const n of ['n1', 'n2']) await putNode(f.store, fakeNode(n));
  nodes = playNodes(f.store, 'default', 100);
});
afterAll(async () => {
  await nodes?.stop();
  await f?.stop();
});

const manifest = (name: string, image: string, partition = 0, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name },
  spec: {
    serviceName: name, replicas: 3,
    selector: { matchLabels: { app: name } },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
    ...extra,
  },
});
const apply = async (o: unknown) => (await f.api<ApplyResult>('apply', { object: o })).object as StatefulSet;
const getSts = async (name: string) => (await f.api<GetResult>('get', { kind: 'statefulsets', name })).object as StatefulSet;
const livePods = async (sts: StatefulSet): Promise<Pod[]> => (await f.store.list<Pod>('pods.default.>')).items.map((i) => i.object)
  .filter((p) => !p.metadata.deletionTimestamp && p.metadata.ownerReferences?.some((r) => r.uid === sts.metadata.uid));
const revisionsOf = async (sts: StatefulSet): Promise<ControllerRevision[]> =>
  ((await f.api<ListResult>('list', { kind: 'controllerrevisions' })).items as unknown as ControllerRevision[])
    .filter((r) => r.metadata.ownerReferences?.some((o) => o.uid === sts.metadata.uid))
    .sort((a, b) => a.revision - b.revision);
const isReady = (p: Pod) => !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
const image = (p: Pod | undefined) => p?.spec.containers[0].image;
/** The pods by name: `name=image@revision`. */
const shape = async (sts: StatefulSet) => (await livePods(sts)).map((p) => `${p.metadata.name}=${image(p)}@${p.metadata.labels?.[HASH]}`).sort();
/** Waits until every replica is ready and the status has seen the set's generation. */
const settled = (name: string, check: (s: StatefulSet, pods: Pod[]) => boolean = () => true) => waitFor(`${name} settled`, async () => {
  const sts = await getSts(name);
  const pods = await livePods(sts);
  const s = sts.status;
  return s && s.observedGeneration === sts.metadata.generation && s.readyReplicas === 3 && pods.length === 3 && pods.every(isReady)
    && check(sts, pods) ? sts : undefined;
}, 60_000, 100);

let v1: string;
let v2: string;

it('keeps one revision of the first template, named <set>-<hash>, whose name the pods carry', async () => {
  const sts = await settled('web', await (async () => { await apply(manifest('web', 'v1')); return () => true; })());
  const revs = await revisionsOf(sts);
  expect(revs).toHaveLength(1);
  v1 = revs[0].metadata.name;
  expect(v1).toMatch(/^web-[a-z0-9]+$/);
  expect(revs[0]).toMatchObject({
    revision: 1,
    metadata: { labels: { app: 'web', 'controller.kubernetes.io/hash': v1.slice('web-'.length) }, ownerReferences: [expect.objectContaining({ kind: 'StatefulSet', name: 'web', controller: true })] },
    data: { spec: { template: { $patch: 'replace', spec: { containers: [expect.objectContaining({ image: 'v1' })] } } } },
  });
  expect(sts.status).toMatchObject({ currentRevision: v1, updateRevision: v1 });
  expect(await shape(sts)).toEqual([`web-0=v1@${v1}`, `web-1=v1@${v1}`, `web-2=v1@${v1}`]);
});

it('brings a replica below the partition back at the current revision, not the new template', async () => {
  await apply(manifest('web', 'v2', 2));
  const sts = await settled('web', (s) => s.status?.updatedReplicas === 1);
  const revs = await revisionsOf(sts);
  expect(revs.map((r) => r.revision)).toEqual([1, 2]);
  v2 = revs[1].metadata.name;
  expect(sts.status).toMatchObject({ currentRevision: v1, updateRevision: v2 });
  expect(await shape(sts)).toEqual([`web-0=v1@${v1}`, `web-1=v1@${v1}`, `web-2=v2@${v2}`]);

  const old = (await livePods(sts)).find((p) => p.metadata.name === 'web-0')!;
  await f.api('delete', { kind: 'pods', name: 'web-0' });
  const back = await waitFor('web-0 back', async () => {
    const p = (await livePods(sts)).find((x) => x.metadata.name === 'web-0');
    return p && p.metadata.uid !== old.metadata.uid && isReady(p) ? p : undefined;
  }, 30_000, 100);
  expect(image(back)).toBe('v1');
  expect(back.metadata.labels?.[HASH]).toBe(v1);
  expect(await shape(await settled('web'))).toEqual([`web-0=v1@${v1}`, `web-1=v1@${v1}`, `web-2=v2@${v2}`]);
});

it('goes back to the first template by renumbering its revision, and rolls every pod back to it', async () => {
  await apply(manifest('web', 'v1', 0));
  const sts = await settled('web', (s, pods) => s.status?.currentRevision === v1 && s.status.updateRevision === v1 && pods.every((p) => p.metadata.labels?.[HASH] === v1));
  const revs = await revisionsOf(sts);
  expect(revs.map((r) => `${r.metadata.name}:${r.revision}`)).toEqual([`${v2}:2`, `${v1}:3`]);
  expect(await shape(sts)).toEqual([`web-0=v1@${v1}`, `web-1=v1@${v1}`, `web-2=v1@${v1}`]);
});

it('refuses edits of a revision\'s data and number through the api', async () => {
  const [rev] = (await revisionsOf(await getSts('web'))).filter((r) => r.metadata.name === v2);
  const data = await caught(f.api('update', { object: { ...rev, data: { spec: { template: { spec: { containers: [{ name: 'c', image: 'evil' }] } } } } } }));
  expect(String(data)).toMatch(new RegExp(`ControllerRevision.apps "${v2}" is invalid: data: Invalid value: .*: field is immutable`));
  const number = await caught(f.api('update', { object: { ...rev, revision: 9 } }));
  expect(String(number)).toMatch(/revision: Invalid value: 9: field is immutable/);
});

it('prunes revisions beyond revisionHistoryLimit that no pod uses', async () => {
  await apply(manifest('web', 'v3', 0, { revisionHistoryLimit: 1 }));
  await settled('web', (s, pods) => s.status?.currentRevision === s.status?.updateRevision && pods.every((p) => image(p) === 'v3'));
  await apply(manifest('web', 'v4', 0, { revisionHistoryLimit: 1 }));
  const sts = await settled('web', (s, pods) => s.status?.currentRevision === s.status?.updateRevision && pods.every((p) => image(p) === 'v4'));
  const revs = await waitFor('history cut to one old revision', async () => {
    const got = await revisionsOf(sts);
    return got.length === 2 ? got : undefined;
  }, 30_000, 100);
  // v1 (3), v2 (2), v3 (4), v4 (5): the newest old one and the current one stay.
  expect(revs.map((r) => r.revision)).toEqual([4, 5]);
  expect(revs[1].metadata.name).toBe(sts.status?.updateRevision);
});

it('goes on from the store after a stop between its revision write and its pod writes', async () => {
  const before = await getSts('web');
  const maxNumber = Math.max(...(await revisionsOf(before)).map((r) => r.revision));
  await f.cp.stop();
  // What a controller killed right after writing the new revision leaves: the set's new template
  // (as the api stored it) and its revision, no pod changed, the status as it was.
  const key = objectKey('statefulsets', 'default', 'web');
  const changed = await f.store.mutate<StatefulSet>(key, (s) => ({
    ...s, metadata: { ...s.metadata, generation: (s.metadata.generation ?? 1) + 1 },
    spec: { ...s.spec, template: { ...s.spec.template, spec: { ...s.spec.template.spec, containers: [{ ...s.spec.template.spec.containers[0], image: 'v5' }] } } },
  }));
  const set = changed!.object;
  const made = newControllerRevision(set as unknown as RevisionOwner, statefulSetTemplateHash(set), maxNumber + 1);
  await f.store.create(objectKey('controllerrevisions', 'default', made.metadata.name), made);
  f.cp = await runControlPlane({ bus: { servers: f.server.url, name: 'cp-sts-rev-test-2' } });
  const sts = await settled('web', (s, pods) => s.status?.currentRevision === made.metadata.name && pods.every((p) => image(p) === 'v5'));
  const revs = await revisionsOf(sts);
  expect(revs.filter((r) => r.metadata.name === made.metadata.name).map((r) => r.revision)).toEqual([maxNumber + 1]);
  expect(new Set(revs.map((r) => r.revision)).size).toBe(revs.length);
  expect((await livePods(sts)).every((p) => p.metadata.labels?.[HASH] === made.metadata.name)).toBe(true);
});

it('takes its revisions with it when deleted', async () => {
  const sts = await getSts('web');
  expect((await revisionsOf(sts)).length).toBeGreaterThan(0);
  await f.api('delete', { kind: 'statefulsets', name: 'web' });
  await waitFor('revisions gone', async () => (await revisionsOf(sts)).length === 0, 30_000, 100);
});
