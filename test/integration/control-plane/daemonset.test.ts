/**
 * DaemonSets against a real nats-server and an in-process control plane: one pod per node, a node
 * that joins gets one, a node tainted NoExecute or no longer labelled for the set's nodeSelector
 * loses it, a deleted node's pod goes, a new template rolls out node by node without more than
 * maxUnavailable nodes at once lacking an available pod (sampled), maxSurge starts each new pod
 * beside the old one, OnDelete replaces only the pods deleted, a failed pod is replaced, its
 * templates are kept as ControllerRevisions (renumbered on a return, pruned beyond
 * revisionHistoryLimit), and deleting the set deletes its pods and revisions. No node agent runs: nodes are objects in the store and a
 * loop plays their agents (test/helpers/fake-nodes.ts).
 */
import {
  isValidation, objectKey, type ApplyResult, type ControllerRevision, type DaemonSet, type GetResult, type Pod,
} from '../../../messages';
import { caught } from '../../helpers/nats-server';
import { waitFor } from '../../helpers/wait';
import { startControlPlane, type ControlPlaneFixture } from '../../helpers/control-plane';
import { fakeNode, playNodes, putNode, type NodeLoop } from '../../helpers/fake-nodes';

jest.setTimeout(120_000);

let f: ControlPlaneFixture;
let nodes: NodeLoop | undefined;
const HASH = 'controller-revision-hash';

beforeAll(async () => {
  f = await startControlPlane('cp-ds-test');
  for (const n of ['n1', 'n2', 'n3']) await putNode(f.store, fakeNode(n, { disk: 'ssd' }));
  nodes = playNodes(f.store, 'default', 300);
});
afterAll(async () => {
  await nodes?.stop();
  await f?.stop();
});

const manifest = (name: string, image: string, spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }], ...podSpec } },
    ...spec,
  },
});
const apply = async (o: unknown) => (await f.api<ApplyResult>('apply', { object: o })).object as DaemonSet;
const getDs = async (name: string) => (await f.api<GetResult>('get', { kind: 'daemonsets', name })).object as DaemonSet;
/** The set's live pods (not being deleted), straight from the store. */
const livePods = async (ds: DaemonSet): Promise<Pod[]> => (await f.store.list<Pod>('pods.default.>')).items.map((i) => i.object)
  .filter((p) => !p.metadata.deletionTimestamp && p.metadata.ownerReferences?.some((r) => r.uid === ds.metadata.uid));
const nodesOf = (pods: Pod[]) => pods.map((p) => p.spec.nodeName).sort();
const isReady = (p: Pod) => !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
/** Waits until the set's status says `n` nodes all run the current template, available. */
const settled = (name: string, n: number) => waitFor(`${name} settled on ${n} nodes`, async () => {
  const ds = await getDs(name);
  const s = ds.status;
  return s && s.observedGeneration === ds.metadata.generation && s.desiredNumberScheduled === n && s.currentNumberScheduled === n
    && s.updatedNumberScheduled === n && s.numberAvailable === n && s.numberMisscheduled === 0 && (await livePods(ds)).length === n ? ds : undefined;
}, 60_000, 100);

it('runs one pod on every node, bound to it, and one more on a node that joins', async () => {
  const made = await apply(manifest('agent', 'v1'));
  expect(made.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  const ds = await settled('agent', 3);
  const pods = await livePods(ds);
  expect(nodesOf(pods)).toEqual(['n1', 'n2', 'n3']);
  for (const p of pods) {
    expect(p.metadata.name).toMatch(/^agent-[a-z0-9]{5}$/);
    expect(p.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'DaemonSet', name: 'agent', controller: true })]);
    expect(p.metadata.labels?.[HASH]).toBeTruthy();
    // The daemon tolerates a lost node for good: no tolerationSeconds, not the default 300 s.
    expect(p.spec.tolerations?.filter((t) => t.key === 'node.kubernetes.io/unreachable')).toEqual([{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }]);
  }
  await putNode(f.store, fakeNode('n4', { disk: 'ssd' }));
  expect(nodesOf(await livePods(await settled('agent', 4)))).toEqual(['n1', 'n2', 'n3', 'n4']);
});

it('takes its pod off a node tainted NoExecute, keeps it on one tainted NoSchedule, and drops a deleted node', async () => {
  await putNode(f.store, fakeNode('n4', { disk: 'ssd' }, [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }]));
  let ds = await settled('agent', 3);
  expect(nodesOf(await livePods(ds))).toEqual(['n1', 'n2', 'n3']);
  // NoSchedule keeps new pods off, but the running one stays (and counts as misscheduled).
  await putNode(f.store, fakeNode('n3', { disk: 'ssd' }, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]));
  ds = await waitFor('n3 misscheduled', async () => {
    const d = await getDs('agent');
    return d.status?.desiredNumberScheduled === 2 && d.status.numberMisscheduled === 1 ? d : undefined;
  }, 30_000, 100);
  expect(nodesOf(await livePods(ds))).toEqual(['n1', 'n2', 'n3']);
  await putNode(f.store, fakeNode('n3', { disk: 'ssd' }));
  await f.store.delete(objectKey('nodes', undefined, 'n4'));
  await f.store.delete(objectKey('nodes', undefined, 'n3'));
  ds = await settled('agent', 2);
  expect(nodesOf(await livePods(ds))).toEqual(['n1', 'n2']);
  await putNode(f.store, fakeNode('n3', { disk: 'ssd' }));
  await settled('agent', 3);
});

it('follows its nodeSelector: a node that loses the label loses the pod', async () => {
  await apply(manifest('ssd', 'v1', {}, { nodeSelector: { disk: 'ssd' } }));
  await settled('ssd', 3);
  await putNode(f.store, fakeNode('n2', { disk: 'hdd' }));
  const ds = await settled('ssd', 2);
  expect(nodesOf(await livePods(ds))).toEqual(['n1', 'n3']);
  await putNode(f.store, fakeNode('n2', { disk: 'ssd' }));
  await settled('ssd', 3);
  await f.api('delete', { kind: 'daemonsets', name: 'ssd' });
});

it('rolls a new template out node by node, never more than maxUnavailable nodes without an available pod', async () => {
  await putNode(f.store, fakeNode('n4', { disk: 'ssd' }));
  await putNode(f.store, fakeNode('n5', { disk: 'ssd' }));
  await settled('agent', 5);
  await apply(manifest('roll', 'v1', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } } }));
  const ds = await settled('roll', 5);
  const oldHash = (await livePods(ds))[0].metadata.labels![HASH];
  let worst = 0;
  let stop = false;
  const sampler = (async () => {
    while (!stop) {
      const pods = (await f.store.list<Pod>('pods.default.>')).items.map((i) => i.object)
        .filter((p) => p.metadata.ownerReferences?.some((r) => r.uid === ds.metadata.uid));
      const servedBy = new Set(pods.filter((p) => !p.metadata.deletionTimestamp && isReady(p)).map((p) => p.spec.nodeName));
      worst = Math.max(worst, 5 - servedBy.size);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await apply(manifest('roll', 'v2', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } } }));
  const after = await waitFor('v2 rolled out', async () => {
    const d = await settled('roll', 5);
    return d.spec.template.spec.containers[0].image === 'v2' ? d : undefined;
  }, 60_000, 100);
  stop = true;
  await sampler;
  const pods = await livePods(after);
  expect(new Set(pods.map((p) => p.metadata.labels![HASH])).size).toBe(1);
  expect(pods[0].metadata.labels![HASH]).not.toBe(oldHash);
  expect(pods.every((p) => p.spec.containers[0].image === 'v2')).toBe(true);
  expect(nodesOf(pods)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
  expect(worst).toBeGreaterThan(0);
  expect(worst).toBeLessThanOrEqual(2);
});

it('surges with maxSurge: a new pod starts beside the old one, never on more than maxSurge nodes, no node unserved', async () => {
  const strategy = { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } };
  await apply(manifest('surge', 'v1', strategy));
  const ds = await settled('surge', 5);
  let worstUnserved = 0;
  let worstDoubled = 0;
  let stop = false;
  const sampler = (async () => {
    while (!stop) {
      const pods = (await f.store.list<Pod>('pods.default.>')).items.map((i) => i.object)
        .filter((p) => !p.metadata.deletionTimestamp && p.metadata.ownerReferences?.some((r) => r.uid === ds.metadata.uid));
      worstUnserved = Math.max(worstUnserved, 5 - new Set(pods.filter(isReady).map((p) => p.spec.nodeName)).size);
      const perNode = new Map<string, number>();
      for (const p of pods) perNode.set(p.spec.nodeName!, (perNode.get(p.spec.nodeName!) ?? 0) + 1);
      worstDoubled = Math.max(worstDoubled, [...perNode.values()].filter((n) => n > 1).length);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await apply(manifest('surge', 'v2', strategy));
  await waitFor('v2 surged out', async () => {
    const d = await settled('surge', 5);
    return d.spec.template.spec.containers[0].image === 'v2' && (await livePods(d)).every((p) => p.spec.containers[0].image === 'v2');
  }, 60_000, 100);
  stop = true;
  await sampler;
  expect(worstDoubled).toBe(1);
  expect(worstUnserved).toBe(0);
  await f.api('delete', { kind: 'daemonsets', name: 'surge' });
});

it('with OnDelete replaces only the pods deleted, and replaces a failed pod', async () => {
  await apply(manifest('manual', 'v1', { updateStrategy: { type: 'OnDelete' } }));
  const ds = await settled('manual', 5);
  const [first] = await livePods(ds);
  await apply(manifest('manual', 'v2', { updateStrategy: { type: 'OnDelete' } }));
  await waitFor('v2 observed', async () => {
    const d = await getDs('manual');
    return d.status?.observedGeneration === d.metadata.generation && d.status?.updatedNumberScheduled === 0;
  }, 30_000, 100);
  expect((await livePods(ds)).every((p) => p.spec.containers[0].image === 'v1')).toBe(true);
  await f.api('delete', { kind: 'pods', name: first.metadata.name });
  const replaced = await waitFor('a v2 pod on the node', async () => {
    const pods = await livePods(ds);
    return pods.find((p) => p.spec.nodeName === first.spec.nodeName && p.spec.containers[0].image === 'v2');
  }, 30_000, 100);
  expect((await livePods(ds)).filter((p) => p.spec.containers[0].image === 'v1')).toHaveLength(4);
  await f.store.mutate<Pod>(objectKey('pods', 'default', replaced.metadata.name), (p) => ({ ...p, status: { ...p.status, phase: 'Failed' } }));
  await waitFor('the failed pod replaced', async () => {
    const pods = await livePods(ds);
    const here = pods.filter((p) => p.spec.nodeName === first.spec.nodeName);
    return here.length === 1 && here[0].metadata.name !== replaced.metadata.name && here[0].status?.phase === 'Running';
  }, 30_000, 100);
});

it('deletes its pods when it is deleted', async () => {
  const ds = await getDs('manual');
  await f.api('delete', { kind: 'daemonsets', name: 'manual' });
  await waitFor('pods gone', async () => (await f.store.list<Pod>('pods.default.>')).items
    .every((i) => !i.object.metadata.ownerReferences?.some((r) => r.uid === ds.metadata.uid)), 30_000, 100);
});

it('keeps a revision per template, renumbers one it goes back to, prunes beyond revisionHistoryLimit, and takes them with it', async () => {
  const revisionsOf = async (ds: DaemonSet) => (await f.store.list<ControllerRevision>('controllerrevisions.default.>')).items.map((i) => i.object)
    .filter((r) => r.metadata.ownerReferences?.some((o) => o.controller && o.uid === ds.metadata.uid))
    .map((r) => `${r.data?.spec?.template?.spec.containers[0].image}:${r.revision}`).sort();
  const spec = (image: string) => manifest('hist', image, { revisionHistoryLimit: 1 });
  const rolled = async (image: string) => {
    await apply(spec(image));
    return waitFor(`hist at ${image}`, async () => {
      const ds = await getDs('hist');
      const s = ds.status;
      const pods = await livePods(ds);
      return s && s.observedGeneration === ds.metadata.generation && s.desiredNumberScheduled > 0 && s.updatedNumberScheduled === s.desiredNumberScheduled
        && s.numberAvailable === s.desiredNumberScheduled && pods.length === s.desiredNumberScheduled
        && pods.every((p) => p.spec.containers[0].image === image) ? ds : undefined;
    }, 60_000, 100);
  };
  const ds = await rolled('v1');
  const [first] = (await f.store.list<ControllerRevision>('controllerrevisions.default.>')).items.map((i) => i.object)
    .filter((r) => r.metadata.ownerReferences?.some((o) => o.uid === ds.metadata.uid));
  expect(first.metadata.name).toBe(`hist-${(await livePods(ds))[0].metadata.labels?.[HASH]}`);
  expect(await revisionsOf(ds)).toEqual(['v1:1']);
  await rolled('v2');
  expect(await revisionsOf(ds)).toEqual(['v1:1', 'v2:2']);
  await rolled('v1');
  expect(await revisionsOf(ds)).toEqual(['v1:3', 'v2:2']);
  await rolled('v3');
  // v2 (2) is beyond the limit of one old revision and no pod is at it.
  await waitFor('v2 pruned', async () => (await revisionsOf(ds)).join(' ') === 'v1:3 v3:4', 30_000, 100);
  await f.api('delete', { kind: 'daemonsets', name: 'hist' });
  await waitFor('revisions gone', async () => (await revisionsOf(ds)).length === 0, 30_000, 100);
});

it('refuses bad input with the field named, and a selector change', async () => {
  const noMatch = await caught(apply(manifest('bad', 'v1', { selector: { matchLabels: { app: 'other' } } })));
  expect(isValidation(noMatch)).toBe(true);
  expect(String(noMatch)).toMatch(/`selector` does not match template `labels`/);
  const surge = await caught(apply(manifest('bad', 'v1', { updateStrategy: { rollingUpdate: { maxSurge: '150%' } } })));
  expect(String(surge)).toMatch(/maxSurge: Invalid value: "150%": must not be greater than 100%/);
  const unknown = await caught(apply(manifest('bad', 'v1', { replicas: 2 })));
  expect(String(unknown)).toMatch(/unknown field "spec\.replicas"/);
  const changed = await caught(apply({ ...manifest('agent', 'v1'), spec: { ...manifest('agent', 'v1').spec, selector: { matchLabels: { app: 'agent' }, matchExpressions: [{ key: 'app', operator: 'Exists' }] } } }));
  expect(String(changed)).toMatch(/spec\.selector: Invalid value: .*field is immutable/);
  await expect(f.api<GetResult>('get', { kind: 'ds', name: 'bad' })).rejects.toThrow(/not found/);
});
