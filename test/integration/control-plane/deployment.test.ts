/**
 * Deployments against a real nats-server and an in-process control plane: a deployment makes a
 * ReplicaSet named after its template's hash, a new template rolls out without ever exceeding
 * maxSurge nor dropping below replicas - maxUnavailable (sampled), Recreate removes the old pods
 * before making new ones, a rollback moves an old template to a new revision, old sets beyond
 * revisionHistoryLimit go, a paused deployment makes no progress, and one whose pods never become
 * ready turns Progressing False. No node is registered: a loop plays the node and writes pods
 * Ready, except those labelled `ready: never`.
 */
import {
  isValidation, objectKey,
  type ApplyResult, type Deployment, type GetResult, type ListResult, type Pod, type ReplicaSet,
} from '../../../messages';
import { caught } from '../../helpers/nats-server';
import { waitFor } from '../../helpers/wait';
import { startControlPlane, type ControlPlaneFixture } from '../../helpers/control-plane';

jest.setTimeout(90_000);

let f: ControlPlaneFixture;
let node: { stop: boolean; done: Promise<void> } | undefined;

/** Plays the node: marks every pending pod Running and Ready, unless labelled ready=never. */
function playNode(): { stop: boolean; done: Promise<void> } {
  const state = { stop: false, done: Promise.resolve() };
  state.done = (async () => {
    while (!state.stop) {
      const pods = (await f.api<ListResult>('list', { kind: 'pods' })).items as Pod[];
      for (const p of pods) {
        if (p.metadata.deletionTimestamp || p.metadata.labels?.ready === 'never' || p.status?.phase === 'Running') continue;
        await f.store.mutate<Pod>(objectKey('pods', 'default', p.metadata.name), (cur) => ({
          ...cur, status: { ...cur.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] },
        })).catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return state;
}

beforeAll(async () => {
  f = await startControlPlane('cp-deploy-test');
  node = playNode();
});
afterAll(async () => {
  if (node) { node.stop = true; await node.done; }
  await f?.stop();
});

const manifest = (name: string, image: string, spec: Record<string, unknown> = {}, labels: Record<string, string> = {}) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
  spec: {
    replicas: 3, selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name, ...labels } }, spec: { containers: [{ name: 'c', image }] } },
    ...spec,
  },
});
const apply = async (o: unknown) => (await f.api<ApplyResult>('apply', { object: o })).object as Deployment;
const getDeploy = async (name: string) => (await f.api<GetResult>('get', { kind: 'deployments', name })).object as Deployment;
const setsOf = async (d: Deployment): Promise<ReplicaSet[]> => ((await f.api<ListResult>('list', { kind: 'replicasets' })).items as ReplicaSet[])
  .filter((r) => r.metadata.ownerReferences?.some((o) => o.uid === d.metadata.uid));
const setImage = (name: string, image: string) => f.api('patch', {
  kind: 'deployments', name, type: 'strategic', patch: { spec: { template: { spec: { containers: [{ name: 'c', image }] } } } },
});
const condition = (d: Deployment, type: string) => d.status?.conditions?.find((c) => c.type === type);
/** Waits until the deployment's rollout is complete with `image`. */
const rolledOut = (name: string, image: string) => waitFor(`${name} rolled out ${image}`, async () => {
  const d = await getDeploy(name);
  const want = d.spec.replicas ?? 1;
  const s = d.status ?? {};
  return d.spec.template.spec.containers[0].image === image && s.observedGeneration === d.metadata.generation && s.updatedReplicas === want
    && s.replicas === want && s.availableReplicas === want && condition(d, 'Progressing')?.reason === 'NewReplicaSetAvailable' ? d : undefined;
}, 60_000, 100);
const revision = (o: { metadata: { annotations?: Record<string, string> } }) => o.metadata.annotations?.['deployment.kubernetes.io/revision'];

it('makes a ReplicaSet named after its template hash, and reports the rollout complete', async () => {
  await apply(manifest('web', 'v1', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
  const d = await rolledOut('web', 'v1');
  const [rs] = await setsOf(d);
  const hash = rs.metadata.labels!['pod-template-hash'];
  expect(rs.metadata.name).toBe(`web-${hash}`);
  expect(rs.spec.selector.matchLabels).toEqual({ app: 'web', 'pod-template-hash': hash });
  expect(revision(rs)).toBe('1');
  expect(revision(d)).toBe('1');
  expect(rs.metadata.annotations).toMatchObject({ 'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': '4' });
  expect(condition(d, 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
  expect(d.status).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: 0 });
});

it('rolls a new image out without exceeding maxSurge or dropping below replicas - maxUnavailable', async () => {
  const before = await getDeploy('web');
  let maxTotal = 0;
  let minAvailable = Infinity;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const sets = await setsOf(before);
      maxTotal = Math.max(maxTotal, sets.reduce((n, r) => n + (r.spec.replicas ?? 0), 0));
      minAvailable = Math.min(minAvailable, sets.reduce((n, r) => n + (r.status?.availableReplicas ?? 0), 0));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await setImage('web', 'v2');
  const d = await rolledOut('web', 'v2');
  sampling = false;
  await sampler;
  expect(maxTotal).toBeLessThanOrEqual(4);
  expect(maxTotal).toBeGreaterThanOrEqual(3);
  expect(minAvailable).toBeGreaterThanOrEqual(3);
  const sets = await setsOf(d);
  expect(sets).toHaveLength(2);
  const fresh = sets.find((r) => r.spec.template.spec.containers[0].image === 'v2')!;
  const old = sets.find((r) => r !== fresh)!;
  expect(revision(fresh)).toBe('2');
  expect(revision(d)).toBe('2');
  expect(old.spec.replicas).toBe(0);
});

it('rolled back, moves the old template to a new revision and scales its set up again', async () => {
  const d0 = await getDeploy('web');
  const sets = await setsOf(d0);
  const v1 = sets.find((r) => revision(r) === '1')!;
  await f.api('patch', {
    kind: 'deployments', name: 'web', type: 'strategic', patch: { spec: { template: { spec: { containers: [{ name: 'c', image: 'v1' }] } } } },
  });
  const d = await rolledOut('web', 'v1');
  const after = await setsOf(d);
  expect(after).toHaveLength(2);
  const back = after.find((r) => r.metadata.name === v1.metadata.name)!;
  expect(revision(back)).toBe('3');
  expect(back.spec.replicas).toBe(3);
  expect(revision(d)).toBe('3');
});

it('keeps revisionHistoryLimit old sets and deletes older ones', async () => {
  await f.api('patch', { kind: 'deployments', name: 'web', type: 'merge', patch: { spec: { revisionHistoryLimit: 1 } } });
  await setImage('web', 'v4');
  const d = await rolledOut('web', 'v4');
  const sets = await waitFor('old sets cleaned up', async () => {
    const s = await setsOf(d);
    return s.length === 2 ? s : undefined;
  }, 30_000, 100);
  expect(sets.map((r) => r.spec.template.spec.containers[0].image).sort()).toEqual(['v1', 'v4']);
});

it('paused, makes no rollout progress; resumed, rolls out', async () => {
  await f.api('patch', { kind: 'deployments', name: 'web', type: 'merge', patch: { spec: { paused: true } } });
  await waitFor('paused observed', async () => condition(await getDeploy('web'), 'Progressing')?.reason === 'DeploymentPaused', 30_000, 100);
  await setImage('web', 'v5');
  const d = await waitFor('generation observed', async () => {
    const got = await getDeploy('web');
    return got.status?.observedGeneration === got.metadata.generation ? got : undefined;
  }, 30_000, 100);
  expect((await setsOf(d)).some((r) => r.spec.template.spec.containers[0].image === 'v5')).toBe(false);
  expect(d.status?.updatedReplicas).toBe(0);
  await f.api('patch', { kind: 'deployments', name: 'web', type: 'merge', patch: { spec: { paused: false } } });
  await rolledOut('web', 'v5');
});

it('with Recreate, removes every old pod before making new ones', async () => {
  await apply(manifest('re', 'v1', { strategy: { type: 'Recreate' } }));
  const d = await rolledOut('re', 'v1');
  let overlap = false;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const sets = await setsOf(d);
      const withPods = sets.filter((r) => (r.spec.replicas ?? 0) > 0 || (r.status?.replicas ?? 0) > 0);
      if (withPods.length > 1) overlap = true;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await setImage('re', 'v2');
  await rolledOut('re', 'v2');
  sampling = false;
  await sampler;
  expect(overlap).toBe(false);
});

it('with Recreate, waits for old pods still terminating before making new ones', async () => {
  await apply(manifest('hold', 'v1', { replicas: 1, strategy: { type: 'Recreate' } }));
  const d = await rolledOut('hold', 'v1');
  const [old] = (await f.api<ListResult>('list', { kind: 'pods', labelSelector: 'app=hold' })).items as Pod[];
  // A finalizer keeps the old pod terminating, as a node would while it stops.
  await f.store.mutate<Pod>(objectKey('pods', 'default', old.metadata.name), (cur) => ({ ...cur, metadata: { ...cur.metadata, finalizers: ['test.mk/hold'] } }));
  await setImage('hold', 'v2');
  await waitFor('old set empty and seen so', async () => {
    const got = await getDeploy('hold');
    const p = (await f.api<GetResult>('get', { kind: 'pods', name: old.metadata.name })).object;
    return got.status?.observedGeneration === got.metadata.generation && got.status?.replicas === 0 && !!p.metadata.deletionTimestamp;
  }, 30_000, 100);
  expect((await setsOf(d)).some((r) => r.spec.template.spec.containers[0].image === 'v2')).toBe(false);
  await f.store.mutate<Pod>(objectKey('pods', 'default', old.metadata.name), (cur) => ({ ...cur, metadata: { ...cur.metadata, finalizers: [] } }));
  await rolledOut('hold', 'v2');
});

it('scaled, resizes its one active set, up and down', async () => {
  for (const n of [5, 1]) {
    await f.api('patch', { kind: 'deployments', name: 're', type: 'merge', patch: { spec: { replicas: n } } });
    const d = await waitFor(`re at ${n}`, async () => {
      const got = await getDeploy('re');
      const s = got.status ?? {};
      return s.observedGeneration === got.metadata.generation && s.replicas === n && s.availableReplicas === n && s.updatedReplicas === n ? got : undefined;
    }, 30_000, 100);
    const active = (await setsOf(d)).filter((r) => (r.spec.replicas ?? 0) > 0);
    expect(active).toHaveLength(1);
    expect(active[0].metadata.annotations?.['deployment.kubernetes.io/desired-replicas']).toBe(String(n));
  }
});

it('whose pods never become ready, exceeds its progress deadline', async () => {
  await apply(manifest('stuck', 'v1', { replicas: 2, progressDeadlineSeconds: 2 }, { ready: 'never' }));
  const d = await waitFor('ProgressDeadlineExceeded', async () => {
    const got = await getDeploy('stuck');
    return condition(got, 'Progressing')?.reason === 'ProgressDeadlineExceeded' ? got : undefined;
  }, 30_000, 100);
  expect(condition(d, 'Progressing')?.status).toBe('False');
  expect(condition(d, 'Available')?.status).toBe('False');
});

it('deleted, takes its sets and their pods with it', async () => {
  const d = await getDeploy('re');
  expect((await setsOf(d)).length).toBeGreaterThan(0);
  await f.api('delete', { kind: 'deployments', name: 're' });
  await waitFor('its sets and pods gone', async () => {
    const sets = await setsOf(d);
    const pods = (await f.api<ListResult>('list', { kind: 'pods', labelSelector: 'app=re' })).items;
    return sets.length === 0 && pods.length === 0;
  }, 30_000, 100);
});

it('adopts an orphan set its selector takes, and rolls it down as an old revision', async () => {
  const orphan = (await f.api<ApplyResult>('apply', {
    object: {
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'adopt-old', labels: { app: 'adopt' } },
      spec: { replicas: 2, selector: { matchLabels: { app: 'adopt' } }, template: { metadata: { labels: { app: 'adopt' } }, spec: { containers: [{ name: 'c', image: 'v0' }] } } },
    },
  })).object;
  await apply(manifest('adopt', 'v1', { replicas: 2 }));
  const d = await rolledOut('adopt', 'v1');
  const sets = await setsOf(d);
  const adopted = sets.find((r) => r.metadata.name === 'adopt-old');
  expect(adopted?.metadata.uid).toBe(orphan.metadata.uid);
  expect(adopted?.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Deployment', name: 'adopt', controller: true })]);
  expect(adopted?.spec.replicas).toBe(0);
});

it('releases a set whose labels stop matching, and makes another under a new hash (collisionCount)', async () => {
  await apply(manifest('coll', 'v1', { replicas: 1 }));
  const d = await rolledOut('coll', 'v1');
  const [first] = await setsOf(d);
  await f.api('patch', { kind: 'replicasets', name: first.metadata.name, type: 'merge', patch: { metadata: { labels: { app: 'elsewhere' } } } });
  const after = await waitFor('a set under another name', async () => {
    const got = await getDeploy('coll');
    const sets = await setsOf(got);
    return got.status?.collisionCount === 1 && sets.length === 1 && sets[0].metadata.name !== first.metadata.name ? { got, sets } : undefined;
  }, 30_000, 100);
  const released = (await f.api<GetResult>('get', { kind: 'replicasets', name: first.metadata.name })).object;
  expect(released.metadata.ownerReferences).toBeUndefined();
  expect(after.sets[0].metadata.name).toMatch(/^coll-[a-z0-9]+$/);
  await rolledOut('coll', 'v1');
  await f.api('delete', { kind: 'replicasets', name: first.metadata.name });
});

it('refuses bad manifests with nothing stored', async () => {
  const bad = [
    [manifest('bad1', 'v1', { selector: { matchLabels: { app: 'other' } } }), /selector. does not match template .labels/],
    [manifest('bad2', 'v1', { replicas: -1 }), /replicas must be 0 or more/],
    [manifest('bad3', 'v1', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }), /may not be 0 when `maxSurge` is 0/],
  ] as const;
  for (const [m, msg] of bad) {
    const err = await caught(apply(m));
    expect(isValidation(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(msg);
    expect(await caught(getDeploy(m.metadata.name))).toBeInstanceOf(Error);
  }
  const err = await caught(f.api('patch', { kind: 'deployments', name: 'web', type: 'merge', patch: { spec: { selector: { matchLabels: { app: 'web', x: 'y' } } } } }));
  expect(isValidation(err)).toBe(true);
});
