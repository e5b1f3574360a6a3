/**
 * ReplicaSets against a real nats-server and an in-process control plane: a set makes its pods,
 * replaces a deleted one, deletes the right ones when scaled down, adopts orphans it selects,
 * releases pods whose labels stop matching, counts ready pods, and takes its pods with it when
 * deleted (or leaves them, orphaned). Bad manifests are refused with nothing stored. No node is
 * registered, so pods stay unbound; readiness is written into pod status as a node would.
 */
import {
  isNotFound, isValidation, objectKey,
  type ApplyResult, type GetResult, type KubeObject, type ListResult, type Pod, type ReplicaSet,
} from '../../../messages';
import { caught } from '../../helpers/nats-server';
import { waitFor } from '../../helpers/wait';
import { startControlPlane, type ControlPlaneFixture } from '../../helpers/control-plane';

jest.setTimeout(60_000);

let f: ControlPlaneFixture;
beforeAll(async () => { f = await startControlPlane('cp-rs-test'); });
afterAll(async () => { await f?.stop(); });

const rsManifest = (name: string, replicas: number, app = name, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name },
  spec: {
    replicas, selector: { matchLabels: { app } }, ...extra,
    template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
  },
});
const apply = async (o: unknown) => (await f.api<ApplyResult>('apply', { object: o })).object;
const getRs = async (name: string) => (await f.api<GetResult>('get', { kind: 'replicasets', name })).object as ReplicaSet;
const pods = async (selector: string): Promise<Pod[]> => (await f.api<ListResult>('list', { kind: 'pods', labelSelector: selector })).items as Pod[];
const ownedActive = async (rs: KubeObject): Promise<Pod[]> => (await pods(`app=${(rs as ReplicaSet).spec.template.metadata!.labels!.app}`))
  .filter((p) => p.metadata.ownerReferences?.some((r) => r.uid === rs.metadata.uid && r.controller) && !p.metadata.deletionTimestamp);
/** Waits until `rs` controls exactly `n` active pods and its status says so; returns them. */
const settled = (rs: KubeObject, n: number) => waitFor(`${rs.metadata.name} to control ${n} pods`, async () => {
  const got = await ownedActive(rs);
  const status = (await getRs(rs.metadata.name)).status;
  return got.length === n && status?.replicas === n ? got : undefined;
}, 30_000, 100);
/** Writes a pod's status as its node would: Running and Ready since `since`. */
const markReady = (p: Pod, since = new Date()) => f.store.mutate<Pod>(objectKey('pods', 'default', p.metadata.name), (cur) => ({
  ...cur, status: { ...cur.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: since.toISOString().replace(/\.\d+Z$/, 'Z') }] },
}));

it('makes its pods with a controller reference and the template labels, and reports them', async () => {
  const rs = await apply(rsManifest('web', 3));
  expect((rs as ReplicaSet).spec.replicas).toBe(3);
  const got = await settled(rs, 3);
  for (const p of got) {
    expect(p.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
    expect(p.metadata.labels).toEqual({ app: 'web' });
    expect(p.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    expect(p.spec.restartPolicy).toBe('Always');
  }
  const status = (await getRs('web')).status!;
  expect(status).toMatchObject({ replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 0, availableReplicas: 0, observedGeneration: 1 });
});

it('replaces a deleted pod, and counts ready ones', async () => {
  const rs = await getRs('web');
  const before = await settled(rs, 3);
  await f.api('delete', { kind: 'pods', name: before[0].metadata.name });
  const after = await waitFor('a replacement', async () => {
    const now = await ownedActive(rs);
    return now.length === 3 && !now.some((p) => p.metadata.name === before[0].metadata.name) ? now : undefined;
  }, 30_000, 100);
  await markReady(after[0]);
  await markReady(after[1]);
  await waitFor('two ready', async () => (await getRs('web')).status?.readyReplicas === 2 || undefined, 30_000, 100);
  expect((await getRs('web')).status?.availableReplicas).toBe(2);
});

it('scaled down, deletes pods that are not ready first, and bumps the generation', async () => {
  const rs = await getRs('web');
  const ready = (await settled(rs, 3)).filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  expect(ready).toHaveLength(2);
  await f.api('patch', { kind: 'replicasets', name: 'web', type: 'merge', patch: { spec: { replicas: 2 } } });
  const left = await settled(rs, 2);
  expect(left.map((p) => p.metadata.name).sort()).toEqual(ready.map((p) => p.metadata.name).sort());
  const after = await getRs('web');
  expect(after.metadata.generation).toBe(2);
  await waitFor('observedGeneration 2', async () => (await getRs('web')).status?.observedGeneration === 2 || undefined, 30_000, 100);
  // Scaled to zero, it keeps none.
  await f.api('patch', { kind: 'replicasets', name: 'web', type: 'merge', patch: { spec: { replicas: 0 } } });
  await settled(rs, 0);
});

it('adopts an orphan it selects instead of making a pod, and releases a pod whose labels stop matching', async () => {
  const orphan = await apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', labels: { app: 'adopt' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  const rs = await apply(rsManifest('adopt', 2));
  const got = await settled(rs, 2);
  expect(got.map((p) => p.metadata.name)).toContain('stray');
  const stray = got.find((p) => p.metadata.name === 'stray')!;
  expect(stray.metadata.uid).toBe(orphan.metadata.uid);
  expect(stray.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', name: 'adopt', controller: true });
  // A label change releases it; the set makes another.
  await f.api('patch', { kind: 'pods', name: 'stray', type: 'merge', patch: { metadata: { labels: { app: 'debug' } } } });
  await waitFor('stray released', async () => {
    const p = (await f.api<GetResult>('get', { kind: 'pods', name: 'stray' })).object;
    return p.metadata.ownerReferences === undefined || undefined;
  }, 30_000, 100);
  const now = await settled(rs, 2);
  expect(now.map((p) => p.metadata.name)).not.toContain('stray');
  await f.api('delete', { kind: 'pods', name: 'stray' });
});

it('deleted, takes its pods with it; deleted with the orphan cascade, leaves them without its reference', async () => {
  const rs = await getRs('adopt');
  const mine = await settled(rs, 2);
  await f.api('delete', { kind: 'replicasets', name: 'adopt' });
  await waitFor('its pods gone', async () => (await pods('app=adopt')).length === 0 || undefined, 30_000, 100);
  for (const p of mine) expect(isNotFound(await caught(f.api('get', { kind: 'pods', name: p.metadata.name })))).toBe(true);

  const kept = await apply(rsManifest('kept', 2));
  const keptPods = await settled(kept, 2);
  await f.api('delete', { kind: 'replicasets', name: 'kept', propagationPolicy: 'Orphan' });
  await waitFor('the set gone', async () => isNotFound(await caught(getRs('kept'))) || undefined, 30_000, 100);
  await waitFor('its pods orphaned', async () => {
    const left = await pods('app=kept');
    return left.length === 2 && left.every((p) => !p.metadata.ownerReferences) || undefined;
  }, 30_000, 100);
  expect((await pods('app=kept')).map((p) => p.metadata.name).sort()).toEqual(keptPods.map((p) => p.metadata.name).sort());
});

it('replaces a pod that failed, and keeps the failed one; counts a pod available only after minReadySeconds', async () => {
  const rs = await apply(rsManifest('fail', 2, 'fail', { minReadySeconds: 3 }));
  const [first, second] = await settled(rs, 2);
  await f.store.mutate<Pod>(objectKey('pods', 'default', first.metadata.name), (cur) => ({ ...cur, status: { ...cur.status, phase: 'Failed' } }));
  const now = await waitFor('a replacement for the failed pod', async () => {
    const got = await ownedActive(rs);
    const active = got.filter((p) => p.status?.phase !== 'Failed');
    return active.length === 2 && !active.some((p) => p.metadata.name === first.metadata.name) ? active : undefined;
  }, 30_000, 100);
  expect((await pods('app=fail')).map((p) => p.metadata.name)).toContain(first.metadata.name);
  // Ready now: ready at once, available three seconds later (the set looks again by itself).
  await markReady(second);
  const ready = await waitFor('ready, not yet available', async () => {
    const st = (await getRs('fail')).status;
    return st?.readyReplicas === 1 ? st : undefined;
  }, 30_000, 50);
  expect(ready.availableReplicas).toBe(0);
  await waitFor('available after minReadySeconds', async () => (await getRs('fail')).status?.availableReplicas === 1 || undefined, 10_000, 100);
  expect(now).toHaveLength(2);
  await f.api('delete', { kind: 'replicasets', name: 'fail' });
  await waitFor('fail pods gone', async () => (await pods('app=fail')).length === 0 || undefined, 30_000, 100);
});

it('deleted in the foreground, makes no new pods and goes once its pods are gone', async () => {
  const rs = await apply(rsManifest('fg', 3));
  await settled(rs, 3);
  await f.api('delete', { kind: 'replicasets', name: 'fg', propagationPolicy: 'Foreground' });
  await waitFor('the set and its pods gone', async () => (isNotFound(await caught(getRs('fg'))) && (await pods('app=fg')).length === 0) || undefined, 30_000, 100);
});

it('goes with its namespace, pods and all', async () => {
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rs-ns' } });
  const rs = (await f.api<ApplyResult>('apply', { object: rsManifest('inns', 3), namespace: 'rs-ns' })).object;
  await waitFor('its pods', async () => (await f.api<ListResult>('list', { kind: 'pods', namespace: 'rs-ns' })).items.length === 3 || undefined, 30_000, 100);
  expect(rs.metadata.namespace).toBe('rs-ns');
  await f.api('delete', { kind: 'namespaces', name: 'rs-ns' });
  await waitFor('the namespace gone', async () => isNotFound(await caught(f.api('get', { kind: 'namespaces', name: 'rs-ns' }))) || undefined, 30_000, 100);
  expect((await f.api<ListResult>('list', { kind: 'pods', namespace: 'rs-ns' })).items).toEqual([]);
  expect((await f.api<ListResult>('list', { kind: 'replicasets', namespace: 'rs-ns' })).items).toEqual([]);
});

it('refuses bad manifests with a clear error and stores nothing', async () => {
  const cases: [unknown, RegExp][] = [
    [rsManifest('bad1', 1, 'x', { selector: { matchLabels: { app: 'y' } } }), /`selector` does not match template `labels`/],
    [rsManifest('bad2', -1), /spec\.replicas: replicas must be 0 or more/],
    [{ ...rsManifest('bad3', 1), spec: { ...rsManifest('bad3', 1).spec, selector: undefined } }, /spec\.selector: Required value/],
  ];
  for (const [doc, msg] of cases) {
    const err = await caught(apply(doc));
    expect(isValidation(err)).toBe(true);
    expect((err as Error).message).toMatch(msg);
  }
  // The selector of a set cannot change (apps/v1), and the refusal changes nothing.
  const live = await apply(rsManifest('immutable', 0));
  const changed = await caught(apply({ ...rsManifest('immutable', 0, 'immutable'), spec: { ...rsManifest('immutable', 0).spec, selector: { matchLabels: { app: 'immutable' }, matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] } } }));
  expect(isValidation(changed)).toBe(true);
  expect((changed as Error).message).toContain('spec.selector: Invalid value');
  expect((changed as Error).message).toContain('field is immutable');
  const after = await getRs('immutable');
  expect(after.spec.selector).toEqual((live as ReplicaSet).spec.selector);
  expect(after.metadata.generation).toBe(1);
  await f.api('delete', { kind: 'replicasets', name: 'immutable' });
  for (const name of ['bad1', 'bad2', 'bad3']) expect(isNotFound(await caught(getRs(name)))).toBe(true);
  expect(await pods('app in (x,bad2,bad3)')).toEqual([]);
});

it('burst: makes many pods, exactly as many as asked', async () => {
  const rs = await apply(rsManifest('burst', 40));
  await settled(rs, 40);
  expect((await pods('app=burst'))).toHaveLength(40);
  await f.api('delete', { kind: 'replicasets', name: 'burst' });
  await waitFor('burst pods gone', async () => (await pods('app=burst')).length === 0 || undefined, 30_000, 100);
});
