/**
 * StatefulSets against a real nats-server and an in-process control plane: replicas named
 * `<set>-<ordinal>` with their hostname and the service as subdomain, made one at a time in order
 * (each once the one before is Ready), a deleted or failed replica back under the same name,
 * scale-down from the highest ordinal one at a time, a rolling update from the highest ordinal
 * down to the partition, OnDelete, Parallel management, the pods going with the set, and the
 * claims of volumeClaimTemplates (made before their pods, reused, kept or deleted as the retention
 * policy says). No node
 * agent runs: nodes are objects in the store and a loop plays their agents
 * (test/helpers/fake-nodes.ts); the scheduler binds the pods.
 */
import {
  LABEL_SERVICE_NAME, objectKey, type ApplyResult, type EndpointSlice, type GetResult, type ListResult, type PersistentVolumeClaim, type Pod,
  type StatefulSet,
} from '../../../messages';
import { caught } from '../../helpers/nats-server';
import { waitFor } from '../../helpers/wait';
import { startControlPlane, type ControlPlaneFixture } from '../../helpers/control-plane';
import { fakeNode, playNodes, putNode, type NodeLoop } from '../../helpers/fake-nodes';

jest.setTimeout(180_000);

let f: ControlPlaneFixture;
let nodes: NodeLoop | undefined;
const HASH = 'controller-revision-hash';

beforeAll(async () => {
  f = await startControlPlane('cp-sts-test');
  for (const n of ['n1', 'n2']) await putNode(f.store, fakeNode(n));
  nodes = playNodes(f.store, 'default', 200);
});
afterAll(async () => {
  await nodes?.stop();
  await f?.stop();
});

const manifest = (name: string, image: string, spec: Record<string, unknown> = {}, labels: Record<string, string> = {}) => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name },
  spec: {
    serviceName: 'nginx', replicas: 3,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name, ...labels } }, spec: { containers: [{ name: 'c', image }] } },
    ...spec,
  },
});
const apply = async (o: unknown) => (await f.api<ApplyResult>('apply', { object: o })).object as StatefulSet;
const getSts = async (name: string) => (await f.api<GetResult>('get', { kind: 'statefulsets', name })).object as StatefulSet;
/** Every pod the set controls, straight from the store (being deleted or not). */
const allPods = async (sts: StatefulSet): Promise<Pod[]> => (await f.store.list<Pod>('pods.default.>')).items.map((i) => i.object)
  .filter((p) => p.metadata.ownerReferences?.some((r) => r.uid === sts.metadata.uid));
const livePods = async (sts: StatefulSet) => (await allPods(sts)).filter((p) => !p.metadata.deletionTimestamp);
const names = (pods: Pod[]) => pods.map((p) => p.metadata.name).sort();
const isReady = (p: Pod) => !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
const setReplicas = (name: string, replicas: number) => f.api('patch', { kind: 'statefulsets', name, type: 'merge', patch: { spec: { replicas } } });
/** Waits until the set's status says `n` replicas, all ready and at the current revision. */
const settled = (name: string, n: number) => waitFor(`${name} settled at ${n}`, async () => {
  const sts = await getSts(name);
  const s = sts.status;
  const pods = await allPods(sts);
  return s && s.observedGeneration === sts.metadata.generation && s.replicas === n && s.readyReplicas === n && s.updatedReplicas === n
    && s.currentRevision === s.updateRevision && pods.length === n && pods.every(isReady) ? sts : undefined;
}, 60_000, 100);

/** Samples the set's pods every 20 ms until stopped; `check` sees each sample. */
function sample(sts: StatefulSet, check: (pods: Pod[]) => void): { stop(): Promise<void> } {
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      check(await allPods(sts));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return { async stop() { stopped = true; await done; } };
}

it('makes web-0, web-1, web-2 in order, each once the one before is Ready, with stable hostnames', async () => {
  const made = await apply(manifest('web', 'v1'));
  expect(made.spec).toMatchObject({ podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } } });
  const violations: string[] = [];
  const sampler = sample(made, (pods) => {
    const byName = new Map(pods.map((p) => [p.metadata.name, p]));
    for (const p of pods) {
      const i = Number(p.metadata.name.split('-')[1]);
      const before = byName.get(`web-${i - 1}`);
      if (i > 0 && !(before && isReady(before))) violations.push(`${p.metadata.name} exists while web-${i - 1} is not Ready`);
    }
  });
  const sts = await settled('web', 3);
  await sampler.stop();
  expect(violations).toEqual([]);
  const pods = await livePods(sts);
  expect(names(pods)).toEqual(['web-0', 'web-1', 'web-2']);
  for (const p of pods) {
    expect(p.spec.hostname).toBe(p.metadata.name);
    expect(p.spec.subdomain).toBe('nginx');
    expect(p.spec.nodeName).toMatch(/^n[12]$/);
    expect(p.metadata.labels).toMatchObject({ 'statefulset.kubernetes.io/pod-name': p.metadata.name, 'apps.kubernetes.io/pod-index': p.metadata.name.split('-')[1] });
    expect(p.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'StatefulSet', name: 'web', controller: true })]);
  }
  // The pods were made one after another: web-1 after web-0 was Ready, web-2 after web-1.
  const created = (n: string) => Date.parse(pods.find((p) => p.metadata.name === n)!.metadata.creationTimestamp!);
  expect(created('web-0')).toBeLessThanOrEqual(created('web-1'));
  expect(created('web-1')).toBeLessThanOrEqual(created('web-2'));
  expect(sts.status).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 3, updatedReplicas: 3 });
});

it("gives each replica its DNS name: the headless Service's endpoints carry the pod names as hostnames", async () => {
  await apply({
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'nginx' },
    spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] },
  });
  // The pods' addresses, as their node would report them (the fake nodes report none).
  for (const [i, name] of ['web-0', 'web-1', 'web-2'].entries()) {
    await f.store.mutate<Pod>(objectKey('pods', 'default', name), (p) => ({ ...p, status: { ...p.status, podIP: `10.244.0.${10 + i}`, podIPs: [{ ip: `10.244.0.${10 + i}` }] } }));
  }
  const hosts = await waitFor('endpoints with hostnames', async () => {
    const slices = (await f.api<ListResult>('list', { kind: 'endpointslices', labelSelector: `${LABEL_SERVICE_NAME}=nginx` })).items as unknown as EndpointSlice[];
    const got = slices.flatMap((sl) => sl.endpoints.map((e) => `${e.hostname}=${e.addresses[0]}`)).sort();
    return got.length === 3 ? got : undefined;
  }, 30_000, 100);
  expect(hosts).toEqual(['web-0=10.244.0.10', 'web-1=10.244.0.11', 'web-2=10.244.0.12']);
});

it('brings a deleted replica back under the same name, and a failed one too', async () => {
  const sts = await getSts('web');
  const old = (await livePods(sts)).find((p) => p.metadata.name === 'web-1')!;
  await f.api('delete', { kind: 'pods', name: 'web-1' });
  const back = await waitFor('web-1 back', async () => {
    const p = (await livePods(sts)).find((x) => x.metadata.name === 'web-1');
    return p && p.metadata.uid !== old.metadata.uid && isReady(p) ? p : undefined;
  }, 30_000, 100);
  expect(back.spec.hostname).toBe('web-1');
  const failedUid = (await livePods(sts)).find((p) => p.metadata.name === 'web-2')!.metadata.uid;
  await f.store.mutate<Pod>(objectKey('pods', 'default', 'web-2'), (p) => ({ ...p, status: { ...p.status, phase: 'Failed', conditions: [] } }));
  await waitFor('web-2 replaced', async () => {
    const p = (await livePods(sts)).find((x) => x.metadata.name === 'web-2');
    return p && p.metadata.uid !== failedUid && isReady(p) ? p : undefined;
  }, 30_000, 100);
  await settled('web', 3);
});

it('scales down from the highest ordinal one at a time, and back up in order', async () => {
  await apply(manifest('big', 'v1', { replicas: 4 }));
  const sts = await settled('big', 4);
  const goneOrder: string[] = [];
  let worstDeleting = 0;
  let seen = new Set(names(await allPods(sts)));
  const sampler = sample(sts, (pods) => {
    worstDeleting = Math.max(worstDeleting, pods.filter((p) => p.metadata.deletionTimestamp).length);
    const now = new Set(pods.map((p) => p.metadata.name));
    for (const n of seen) if (!now.has(n)) goneOrder.push(n);
    seen = now;
  });
  await setReplicas('big', 1);
  await settled('big', 1);
  await sampler.stop();
  expect(goneOrder).toEqual(['big-3', 'big-2', 'big-1']);
  expect(worstDeleting).toBeLessThanOrEqual(1);
  expect(names(await livePods(sts))).toEqual(['big-0']);
  await setReplicas('big', 3);
  expect(names(await livePods(await settled('big', 3)))).toEqual(['big-0', 'big-1', 'big-2']);
  await f.api('delete', { kind: 'statefulsets', name: 'big' });
});

it('rolls a new template out from the highest ordinal down to the partition, then the rest', async () => {
  const partitioned = (image: string, partition: number) => manifest('web', image, { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition } } });
  const sts = await settled('web', 3);
  const oldHash = sts.status!.currentRevision!;
  await apply(partitioned('v2', 2));
  const newHash = await waitFor('web-2 updated', async () => {
    const s = await getSts('web');
    const p2 = (await livePods(s)).find((p) => p.metadata.name === 'web-2');
    return s.status?.updatedReplicas === 1 && s.status.readyReplicas === 3 && p2?.spec.containers[0].image === 'v2' ? s.status.updateRevision : undefined;
  }, 60_000, 100);
  expect(newHash).not.toBe(oldHash);
  const st = (await getSts('web')).status!;
  expect(st).toMatchObject({ currentRevision: oldHash, updateRevision: newHash, currentReplicas: 2, updatedReplicas: 1 });
  expect((await livePods(sts)).filter((p) => p.metadata.labels![HASH] === oldHash).map((p) => p.metadata.name).sort()).toEqual(['web-0', 'web-1']);

  const updatedOrder: string[] = [];
  let worstUnready = 0;
  const sampler = sample(sts, (pods) => {
    worstUnready = Math.max(worstUnready, 3 - pods.filter((p) => !p.metadata.deletionTimestamp && isReady(p)).length);
    for (const p of pods) if (p.metadata.labels?.[HASH] === newHash && !updatedOrder.includes(p.metadata.name)) updatedOrder.push(p.metadata.name);
  });
  await apply(partitioned('v2', 0));
  const done = await waitFor('rolled out', async () => {
    const s = await settled('web', 3);
    return s.status?.currentRevision === newHash ? s : undefined;
  }, 60_000, 100);
  await sampler.stop();
  expect(updatedOrder).toEqual(['web-2', 'web-1', 'web-0']);
  expect(worstUnready).toBeLessThanOrEqual(1);
  expect((await livePods(done)).every((p) => p.spec.containers[0].image === 'v2' && p.metadata.labels![HASH] === newHash)).toBe(true);
});

it('with OnDelete gives the new template only to the replicas a user deletes', async () => {
  await apply(manifest('manual', 'v1', { updateStrategy: { type: 'OnDelete' }, replicas: 2 }));
  const sts = await settled('manual', 2);
  await apply(manifest('manual', 'v2', { updateStrategy: { type: 'OnDelete' }, replicas: 2 }));
  await waitFor('v2 observed', async () => {
    const s = await getSts('manual');
    return s.status?.observedGeneration === s.metadata.generation && s.status?.updatedReplicas === 0;
  }, 30_000, 100);
  expect((await livePods(sts)).every((p) => p.spec.containers[0].image === 'v1')).toBe(true);
  const old = (await livePods(sts)).find((p) => p.metadata.name === 'manual-0')!;
  await f.api('delete', { kind: 'pods', name: 'manual-0' });
  await waitFor('manual-0 at v2', async () => {
    const p = (await livePods(sts)).find((x) => x.metadata.name === 'manual-0');
    return p && p.metadata.uid !== old.metadata.uid && p.spec.containers[0].image === 'v2' && isReady(p);
  }, 30_000, 100);
  const pods = await livePods(sts);
  expect(pods.find((p) => p.metadata.name === 'manual-1')!.spec.containers[0].image).toBe('v1');
  expect((await getSts('manual')).status).toMatchObject({ updatedReplicas: 1, replicas: 2 });
});

it('with Parallel makes every replica at once, without waiting for readiness', async () => {
  const sts = await apply(manifest('par', 'v1', { podManagementPolicy: 'Parallel' }, { ready: 'never' }));
  const pods = await waitFor('three pods', async () => {
    const got = await livePods(sts);
    return got.length === 3 ? got : undefined;
  }, 30_000, 100);
  expect(names(pods)).toEqual(['par-0', 'par-1', 'par-2']);
  expect(pods.some(isReady)).toBe(false);
  await setReplicas('par', 0);
  await waitFor('all gone', async () => (await allPods(sts)).length === 0, 30_000, 100);
});

it('waits while a pod that is not its own holds a replica name, and goes on once it is gone', async () => {
  await apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'blk-0', labels: { app: 'someone-else' } }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  const sts = await apply(manifest('blk', 'v1', { replicas: 2 }));
  await waitFor('FailedCreate recorded', async () => {
    const events = (await f.api<ListResult>('list', { kind: 'events' })).items as unknown as { reason?: string; message?: string; involvedObject?: { name?: string } }[];
    return events.some((e) => e.involvedObject?.name === 'blk' && e.reason === 'FailedCreate' && /a pod named blk-0 exists and is not selected by the set/.test(e.message ?? ''));
  }, 30_000, 100);
  expect(await livePods(sts)).toEqual([]);
  await f.api('delete', { kind: 'pods', name: 'blk-0' });
  expect(names(await livePods(await settled('blk', 2)))).toEqual(['blk-0', 'blk-1']);
  await f.api('delete', { kind: 'statefulsets', name: 'blk' });
});

it('takes its pods with it when deleted', async () => {
  const sts = await getSts('manual');
  await f.api('delete', { kind: 'statefulsets', name: 'manual' });
  await waitFor('pods gone', async () => (await allPods(sts)).length === 0, 30_000, 100);
});

it('refuses changes to fixed fields', async () => {
  const service = await caught(apply(manifest('web', 'v2', { serviceName: 'other' })));
  expect(String(service)).toMatch(/spec: Forbidden: updates to statefulset spec for fields other than .*\(changed: serviceName\)/);
  const selector = await caught(apply({ ...manifest('web', 'v2'), spec: { ...manifest('web', 'v2').spec, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'app', operator: 'Exists' }] } } }));
  expect(String(selector)).toMatch(/spec\.selector: Invalid value: .*field is immutable/);
});

describe('volumeClaimTemplates', () => {
  const dataTemplate = { metadata: { name: 'data', labels: { tier: 'db' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
  const withClaims = (replicas: number, policy?: Record<string, string>) => {
    const m = manifest('db', 'v1', { replicas, volumeClaimTemplates: [dataTemplate], ...(policy ? { persistentVolumeClaimRetentionPolicy: policy } : {}) });
    m.spec.template.spec.containers[0] = { ...m.spec.template.spec.containers[0], volumeMounts: [{ name: 'data', mountPath: '/data' }] } as never;
    return m;
  };
  /** The claims of the set db, by name, straight from the store. */
  const claims = async (): Promise<Map<string, PersistentVolumeClaim>> => new Map((await f.store.list<PersistentVolumeClaim>('persistentvolumeclaims.default.>')).items
    .map((i) => i.object).filter((c) => c.metadata.name.startsWith('data-db-')).map((c) => [c.metadata.name, c]));
  const podUid = async (name: string) => (await livePods(await getSts('db'))).find((p) => p.metadata.name === name)?.metadata.uid;
  let sts: StatefulSet;

  // The scheduler places a pod only once its claims can be bound: a default class that provisions
  // (the local-path provisioner makes each claim's volume on the node the scheduler picks).
  beforeAll(async () => {
    await apply({
      apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass',
      metadata: { name: 'sts-default', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'mk.io/local-path', volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Delete',
    });
  });

  it('makes data-db-0, data-db-1 before their pods, and the pods mount them', async () => {
    const missing: string[] = [];
    const made = await apply(withClaims(2));
    // Every pod seen has its claim already: the claims are listed after the pods.
    let stopped = false;
    const sampler = (async () => {
      while (!stopped) {
        const pods = await allPods(made);
        const now = await claims();
        for (const p of pods) if (!now.has(`data-${p.metadata.name}`)) missing.push(p.metadata.name);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    sts = await settled('db', 2);
    stopped = true;
    await sampler;
    expect(missing).toEqual([]);
    const got = await claims();
    expect([...got.keys()].sort()).toEqual(['data-db-0', 'data-db-1']);
    for (const p of await livePods(sts)) {
      const claim = got.get(`data-${p.metadata.name}`)!;
      expect(p.spec.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: claim.metadata.name } }]);
      expect(Date.parse(claim.metadata.creationTimestamp!)).toBeLessThanOrEqual(Date.parse(p.metadata.creationTimestamp!));
      expect(claim.metadata.labels).toEqual({ tier: 'db', app: 'db' });
      expect(claim.spec.resources.requests.storage).toBe('1Gi');
      // Retain (the default): nothing owns the claims.
      expect(claim.metadata.ownerReferences).toBeUndefined();
    }
    const events = (await f.api<ListResult>('list', { kind: 'events' })).items as unknown as { reason?: string; message?: string; involvedObject?: { name?: string } }[];
    expect(events.some((e) => e.involvedObject?.name === 'db' && e.reason === 'SuccessfulCreate' && e.message === 'create Claim data-db-0 Pod db-0 in StatefulSet db success')).toBe(true);
  });

  it('brings a deleted pod back with the same claim', async () => {
    const before = (await claims()).get('data-db-1')!;
    const old = await podUid('db-1');
    await f.api('delete', { kind: 'pods', name: 'db-1' });
    const back = await waitFor('db-1 back', async () => {
      const p = (await livePods(sts)).find((x) => x.metadata.name === 'db-1');
      return p && p.metadata.uid !== old && isReady(p) ? p : undefined;
    }, 30_000, 100);
    expect(back.spec.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'data-db-1' } }]);
    const after = (await claims()).get('data-db-1')!;
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.metadata.deletionTimestamp).toBeUndefined();
  });

  it('keeps the claims of a scale-down under Retain, and a scale-up reuses them', async () => {
    const before = (await claims()).get('data-db-1')!;
    await setReplicas('db', 1);
    await settled('db', 1);
    const kept = (await claims()).get('data-db-1');
    expect(kept?.metadata.uid).toBe(before.metadata.uid);
    expect(kept?.metadata.deletionTimestamp).toBeUndefined();
    expect(kept?.metadata.ownerReferences).toBeUndefined();
    await setReplicas('db', 2);
    await settled('db', 2);
    expect((await claims()).get('data-db-1')?.metadata.uid).toBe(before.metadata.uid);
  });

  it('under whenScaled Delete, a scale-down deletes the claims with the pods it removes', async () => {
    await f.api('patch', { kind: 'statefulsets', name: 'db', type: 'merge', patch: { spec: { persistentVolumeClaimRetentionPolicy: { whenScaled: 'Delete' } } } });
    await setReplicas('db', 1);
    await waitFor('data-db-1 gone', async () => !(await claims()).has('data-db-1'), 30_000, 100);
    await settled('db', 1);
    const left = (await claims()).get('data-db-0');
    expect(left?.metadata.deletionTimestamp).toBeUndefined();
    expect(left?.metadata.ownerReferences).toBeUndefined();
    // Scaled up again, db-1 gets a new claim.
    await setReplicas('db', 2);
    await settled('db', 2);
    expect((await claims()).get('data-db-1')?.metadata.ownerReferences).toBeUndefined();
  });

  it('under whenDeleted Delete, the set owns its claims (the policy change reaches existing ones) and takes them with it', async () => {
    await f.api('patch', { kind: 'statefulsets', name: 'db', type: 'merge', patch: { spec: { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete' } } } });
    await waitFor('claims owned by the set', async () => {
      const now = [...(await claims()).values()];
      return now.length === 2 && now.every((c) => c.metadata.ownerReferences?.some((r) => r.kind === 'StatefulSet' && r.uid === sts.metadata.uid));
    }, 30_000, 100);
    await f.api('delete', { kind: 'statefulsets', name: 'db' });
    await waitFor('pods and claims gone', async () => (await allPods(sts)).length === 0 && (await claims()).size === 0, 30_000, 100);
  });

  it('holds a replica back while its claim is being deleted, saying so', async () => {
    // A claim of the next set's replica, in use by a pod of no set: its deletion waits for that pod.
    await apply({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data-db-0' }, spec: dataTemplate.spec });
    await apply({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'holder' },
      spec: { containers: [{ name: 'c', image: 'x' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data-db-0' } }] },
    });
    await waitFor('holder running', async () => {
      const p = (await f.store.get<Pod>(objectKey('pods', 'default', 'holder')))?.object;
      return p?.status?.phase === 'Running';
    }, 30_000, 100);
    await f.api('delete', { kind: 'persistentvolumeclaims', name: 'data-db-0' });
    const held = await apply(withClaims(1));
    await waitFor('FailedCreate for the claim being deleted', async () => {
      const events = (await f.api<ListResult>('list', { kind: 'events' })).items as unknown as { reason?: string; message?: string; involvedObject?: { name?: string; uid?: string } }[];
      return events.some((e) => e.involvedObject?.uid === held.metadata.uid && e.reason === 'FailedCreate'
        && e.message === 'create Pod db-0 in StatefulSet db failed error: pvc data-db-0 is being deleted');
    }, 30_000, 100);
    expect(await livePods(held)).toEqual([]);
    await f.api('delete', { kind: 'pods', name: 'holder' });
    const settledSet = await settled('db', 1);
    const claim = (await claims()).get('data-db-0')!;
    expect(claim.metadata.deletionTimestamp).toBeUndefined();
    expect((await livePods(settledSet))[0].spec.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'data-db-0' } }]);
    await f.api('delete', { kind: 'statefulsets', name: 'db' });
  });
});
