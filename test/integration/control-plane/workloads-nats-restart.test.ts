/**
 * The workload controllers across a NATS restart: a burst of ReplicaSets, a Deployment and a
 * DaemonSet is applied, and while their pods are being made the nats-server is SIGKILLed and
 * started again on the same store. The control plane (the built `mk control-plane`, a process of
 * its own) reconnects and goes on from what the store holds: every set ends with exactly its
 * replicas, the Deployment with one ReplicaSet holding them, the DaemonSet with one pod per node;
 * then a scale, a rollout and a template change made after the restart converge as well. A loop
 * plays the nodes' agents through the store (fake nodes, no containers).
 */
import { ObjectStore } from '../../../bus';
import type { DaemonSet, Deployment, Pod, ReplicaSet } from '../../../messages';
import { crashingControlPlane, type CrashingControlPlane } from '../../helpers/crashing-control-plane';
import { fakeNode, playNodes, putNode, type NodeLoop } from '../../helpers/fake-nodes';
import { waitFor } from '../../helpers/wait';

jest.setTimeout(240_000);

const NODES = ['n1', 'n2', 'n3'];
const SETS = 6;
const REPLICAS = 5;
let h: CrashingControlPlane;
let store: ObjectStore;
let nodes: NodeLoop | undefined;

const apply = (object: unknown) => h.api('apply', { object });
const pods = async (): Promise<Pod[]> => (await store.list<Pod>('pods.default.>')).items.map((i) => i.object)
  .filter((p) => !p.metadata.deletionTimestamp);
const ownedBy = (p: Pod, uid: string | undefined) => p.metadata.ownerReferences?.some((r) => r.controller && r.uid === uid);
const list = async <T>(plural: string): Promise<T[]> => (await store.list<T>(`${plural}.default.>`)).items.map((i) => i.object);

const rs = (name: string, replicas: number) => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name },
  spec: { replicas, selector: { matchLabels: { set: name } }, template: { metadata: { labels: { set: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
});
const deploy = (image: string, replicas = 4) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
  spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } } },
});
const ds = (image: string) => ({
  apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' },
  spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image }] } } },
});

/** Null unless every set, the Deployment and the DaemonSet are where they should be. */
async function converged(want: { replicas: number[]; deployImage: string; deployReplicas: number; dsImage: string }): Promise<true | null> {
  const all = await pods();
  const sets = await list<ReplicaSet>('replicasets');
  for (let i = 0; i < SETS; i++) {
    const s = sets.find((x) => x.metadata.name === `burst-${i}`);
    if (!s || all.filter((p) => ownedBy(p, s.metadata.uid)).length !== want.replicas[i]) return null;
  }
  const d = (await list<Deployment>('deployments'))[0];
  const mine = sets.filter((s) => s.metadata.ownerReferences?.some((r) => r.uid === d?.metadata.uid));
  const holding = mine.filter((s) => (s.spec.replicas ?? 0) > 0);
  if (holding.length !== 1 || holding[0].spec.template.spec.containers[0].image !== want.deployImage) return null;
  if (all.filter((p) => ownedBy(p, holding[0].metadata.uid)).length !== want.deployReplicas) return null;
  if (d?.status?.updatedReplicas !== want.deployReplicas || d.status.readyReplicas !== want.deployReplicas) return null;
  const daemon = (await list<DaemonSet>('daemonsets'))[0];
  const dpods = all.filter((p) => ownedBy(p, daemon?.metadata.uid));
  if (dpods.length !== NODES.length || new Set(dpods.map((p) => p.spec.nodeName)).size !== NODES.length) return null;
  if (dpods.some((p) => p.spec.containers[0].image !== want.dsImage)) return null;
  return true;
}

beforeAll(async () => {
  h = await crashingControlPlane('wl-nats-restart');
}, 300_000);

afterAll(async () => {
  await nodes?.stop();
  await h?.close();
});

it('a burst of ReplicaSets, a Deployment and a DaemonSet converge across a nats-server SIGKILL and restart, and go on after it', async () => {
  await h.start();
  store = await ObjectStore.open(h.bus, { create: false });
  for (const n of NODES) await putNode(store, fakeNode(n));
  nodes = playNodes(store, 'default', 100);

  // The burst, all at once; the server dies as soon as the first pod is stored (seen by a watch,
  // not a poll: a poll's list can come back after the controllers made every pod), with most still to make.
  let killed = false;
  const watch = await store.watch<Pod>('pods.default.>', {}, (ev) => {
    if (killed || ev.type !== 'PUT') return;
    killed = true;
    h.server.kill();
  });
  const burst = Promise.allSettled([
    ...Array.from({ length: SETS }, (_, i) => apply(rs(`burst-${i}`, REPLICAS))), apply(deploy('busybox')), apply(ds('busybox')),
  ]);
  await waitFor('the server killed at the first pod', async () => (killed ? true : null), 60_000, 20);
  await h.server.restart();
  await watch.stop();
  // An apply whose reply was lost with the server is applied again: apply converges.
  for (const [i, r] of (await burst).entries()) {
    if (r.status === 'rejected') await waitFor(`apply ${i} again`, async () => {
      const obj = i < SETS ? rs(`burst-${i}`, REPLICAS) : i === SETS ? deploy('busybox') : ds('busybox');
      return apply(obj).then(() => true, () => null);
    }, 60_000, 500);
  }

  const first = { replicas: Array(SETS).fill(REPLICAS) as number[], deployImage: 'busybox', deployReplicas: 4, dsImage: 'busybox' };
  await waitFor('everything converged after the restart', () => converged(first), 120_000, 200);
  expect(h.exited()).toBe(false);

  // After the restart the controllers still take work: scale two sets, roll the Deployment and the DaemonSet.
  await waitFor('the changes applied', async () => Promise.all([
    apply(rs('burst-0', 1)), apply(rs('burst-1', 8)), apply(deploy('busybox:2', 3)), apply(ds('busybox:2')),
  ]).then(() => true, () => null), 60_000, 500);
  const second = { replicas: [1, 8, ...Array(SETS - 2).fill(REPLICAS) as number[]], deployImage: 'busybox:2', deployReplicas: 3, dsImage: 'busybox:2' };
  await waitFor('everything converged on the changes', () => converged(second), 120_000, 200);
  // No pod was made twice: names are unique and every live pod has one controller.
  const all = await pods();
  expect(new Set(all.map((p) => p.metadata.name)).size).toBe(all.length);
  expect(all.every((p) => p.metadata.ownerReferences?.filter((r) => r.controller).length === 1)).toBe(true);
  expect(all).toHaveLength(1 + 8 + (SETS - 2) * REPLICAS + 3 + NODES.length);
});
