/**
 * Claims reach pods, against a real nats-server and an in-process control plane: the scheduler
 * keeps a pod whose claim is missing unscheduled (and places it once the claim is bound), sends a
 * pod with a WaitForFirstConsumer claim to the node its local volume is on and binds the claim
 * there before the pod, and a node reads only the claims of its own pods and the volumes bound
 * to them.
 */
import { request } from '../../../bus';
import {
  isForbidden, nodeApiSubject, objectKey,
  type ApplyResult, type GetResult, type Node, type PersistentVolume, type PersistentVolumeClaim, type Pod, type PodObjectResult,
} from '../../../messages';
import { startControlPlane, type ControlPlaneFixture } from '../../helpers/control-plane';
import { caught } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';

jest.setTimeout(60_000);

let f: ControlPlaneFixture;
beforeAll(async () => {
  f = await startControlPlane('cp-volume-scheduling');
  for (const name of ['n-a', 'n-b']) {
    const node: Node = {
      apiVersion: 'v1', kind: 'Node', metadata: { name, uid: name, labels: { 'kubernetes.io/hostname': name } },
      status: {
        allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
        // A heartbeat in the future: the node lifecycle must not mark these nodes NotReady meanwhile.
        conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: new Date(Date.now() + 3600_000).toISOString() }],
      },
    };
    await f.store.create(objectKey('nodes', undefined, name), node);
  }
});
afterAll(async () => { await f?.stop(); });

const apply = async <T>(o: unknown): Promise<T> => (await f.api<ApplyResult>('apply', { object: o })).object as unknown as T;
const get = async <T>(kind: string, name: string): Promise<T> => (await f.api<GetResult>('get', { kind, name, namespace: 'default' })).object as unknown as T;
const pv = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name },
  spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/tmp/mk-pv/${name}` }, ...spec },
});
const pvc = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
});
const pod = (name: string, claimName: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: { containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }], ...spec },
});
const onNode = (name: string) => ({ required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [name] }] }] } });
const boundTo = (name: string) => until(`${name} bound`, async () => (await get<Pod>('pods', name)).spec.nodeName);
const unschedulable = (name: string) => until(`${name} Unschedulable`, async () => {
  const c = (await get<Pod>('pods', name)).status?.conditions?.find((x) => x.type === 'PodScheduled');
  return c?.status === 'False' ? c.message : undefined;
});

describe('pods with claims', () => {
  it('wait unscheduled for a missing claim, and are placed once it is made and bound', async () => {
    await apply(pod('early', 'later'));
    expect(await unschedulable('early')).toBe('0/2 nodes are available: persistentvolumeclaim "later" not found. preemption: not eligible.');
    await apply(pv('later-pv', { storageClassName: 'manual' }));
    await apply(pvc('later', { storageClassName: 'manual' }));
    expect(['n-a', 'n-b']).toContain(await boundTo('early'));
    expect((await get<PersistentVolumeClaim>('pvc', 'later')).spec.volumeName).toBe('later-pv');
  });

  it('go where their WaitForFirstConsumer claim finds a volume, which is bound before the pod', async () => {
    await apply({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local-wffc' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' });
    await apply(pv('disk-b', { storageClassName: 'local-wffc', hostPath: undefined, local: { path: '/mnt/disk-b' }, nodeAffinity: onNode('n-b') }));
    await apply(pvc('wait', { storageClassName: 'local-wffc' }));
    await apply(pod('consumer', 'wait'));
    expect(await boundTo('consumer')).toBe('n-b');
    const claim = await get<PersistentVolumeClaim>('pvc', 'wait');
    expect(claim.spec.volumeName).toBe('disk-b');
    expect(claim.status?.phase).toBe('Bound');
    expect((await get<PersistentVolume>('pv', 'disk-b')).spec.claimRef?.name).toBe('wait');
  });

  it("let a node read only its own pods' claims and the volumes bound to them", async () => {
    await apply(pv('auth-pv', { storageClassName: 'auth' }));
    await apply(pv('other-pv', { storageClassName: 'auth-other' }));
    await apply(pvc('auth-c', { storageClassName: 'auth' }));
    await apply(pvc('other-c', { storageClassName: 'auth-other' }));
    await until('claims bound', async () => ((await get<PersistentVolumeClaim>('pvc', 'auth-c')).status?.phase === 'Bound'
      && (await get<PersistentVolumeClaim>('pvc', 'other-c')).status?.phase === 'Bound') || undefined);
    const reader = await apply<Pod>(pod('reader', 'auth-c', { nodeName: 'n-a' }));
    const ask = (node: string, kind: string, object: string) => request<PodObjectResult>(f.bus, nodeApiSubject(node, 'pod-object'), {
      namespace: 'default', name: 'reader', uid: reader.metadata.uid, kind, object,
    });
    expect((await ask('n-a', 'persistentvolumeclaims', 'auth-c')).object?.metadata.name).toBe('auth-c');
    expect((await ask('n-a', 'persistentvolumes', 'auth-pv')).object?.metadata.name).toBe('auth-pv');
    expect(isForbidden(await caught(ask('n-a', 'persistentvolumeclaims', 'other-c')))).toBe(true);
    expect(isForbidden(await caught(ask('n-a', 'persistentvolumes', 'other-pv')))).toBe(true);
    expect(isForbidden(await caught(ask('n-b', 'persistentvolumeclaims', 'auth-c')))).toBe(true);
  });
});
