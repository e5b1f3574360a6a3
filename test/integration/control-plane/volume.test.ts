/**
 * The PV controller against a real nats-server and an in-process control plane: claims bind the
 * smallest fitting volume, wait (Pending, with Kubernetes' event) until one appears, get the
 * default class when they name none, are left alone when their class waits for a consumer; a
 * deleted claim releases its volume (Retain keeps it Released, Delete removes it); a claim a pod
 * uses stays Terminating until the pod is gone, and a bound volume until its claim is; a binding
 * a stopped control plane left half made is finished by the next one.
 */
import { runControlPlane } from '../../../actors';
import { listEvents } from '../../../bus/events';
import {
  isNotFound, objectKey, PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER,
  type ApplyResult, type DeleteResult, type GetResult, type KubeObject, type PersistentVolume, type PersistentVolumeClaim,
} from '../../../messages';
import { startControlPlane, type ControlPlaneFixture } from '../../helpers/control-plane';
import { caught } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';

jest.setTimeout(60_000);

let f: ControlPlaneFixture;
beforeAll(async () => { f = await startControlPlane('cp-volume-test'); });
afterAll(async () => { await f?.stop(); });

const pv = (name: string, size: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name },
  spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/tmp/mk-pv/${name}` }, ...spec },
});
const pvc = (name: string, size: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, ...spec },
});
const sc = (name: string, extra: Record<string, unknown> = {}, isDefault = false) => ({
  apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass',
  metadata: { name, ...(isDefault ? { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } : {}) },
  provisioner: 'kubernetes.io/no-provisioner', ...extra,
});

const apply = async <T>(o: unknown): Promise<T> => (await f.api<ApplyResult>('apply', { object: o })).object as unknown as T;
const get = async <T>(kind: string, name: string): Promise<T | undefined> => {
  try {
    return (await f.api<GetResult>('get', { kind, name, namespace: 'default' })).object as unknown as T;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
};
const del = (kind: string, name: string) => f.api<DeleteResult>('delete', { kind, name, namespace: 'default' });
const claimPhase = (name: string, phase: string) => until(`claim ${name} ${phase}`, async () => {
  const c = await get<PersistentVolumeClaim>('pvc', name);
  return c?.status?.phase === phase ? c : undefined;
});
const volumePhase = (name: string, phase: string) => until(`volume ${name} ${phase}`, async () => {
  const v = await get<PersistentVolume>('pv', name);
  return v?.status?.phase === phase ? v : undefined;
});
const gone = (kind: string, name: string) => until(`${kind} ${name} gone`, async () => ((await get(kind, name)) ? undefined : true));
const claimEvent = (name: string, reason: string) => until(`event ${reason} on claim ${name}`, async () =>
  (await listEvents(f.bus, { namespace: 'default', involvedKind: 'PersistentVolumeClaim', involvedName: name })).items.find((e) => e.reason === reason));

it('binds a claim to the smallest volume that fits, both sides, with their protection finalizers', async () => {
  await apply(pv('small', '100Mi'));
  await apply(pv('fits', '2Gi'));
  await apply(pv('huge', '50Gi'));
  await volumePhase('fits', 'Available');
  await apply(pvc('data', '1Gi'));
  const c = await claimPhase('data', 'Bound');
  expect(c.spec.volumeName).toBe('fits');
  expect(c.status).toMatchObject({ capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOnce'] });
  expect(c.metadata.finalizers).toContain(PVC_PROTECTION_FINALIZER);
  const v = await volumePhase('fits', 'Bound');
  expect(v.spec.claimRef).toMatchObject({ namespace: 'default', name: 'data', uid: c.metadata.uid });
  expect(v.metadata.finalizers).toContain(PV_PROTECTION_FINALIZER);
  expect((await get<PersistentVolume>('pv', 'small'))?.status?.phase).toBe('Available');
  // A manifest applied again does not undo the binding the server made.
  expect((await f.api<ApplyResult>('apply', { object: pvc('data', '1Gi') })).result).toBe('unchanged');
  expect((await get<PersistentVolumeClaim>('pvc', 'data'))?.spec.volumeName).toBe('fits');
  // Its spec is fixed once created.
  expect(String(await caught(apply(pvc('data', '1Gi', { accessModes: ['ReadWriteMany'] }))))).toMatch(/spec is immutable after creation/);
});

it('keeps a claim Pending with an event until a fitting volume appears, then binds it', async () => {
  await apply(pvc('later', '3Gi', { accessModes: ['ReadWriteMany'], storageClassName: '' }));
  const ev = await claimEvent('later', 'FailedBinding');
  expect(ev.message).toBe('no persistent volumes available for this claim and no storage class is set');
  expect((await get<PersistentVolumeClaim>('pvc', 'later'))?.status?.phase).toBe('Pending');
  await apply(pv('shared', '5Gi', { accessModes: ['ReadWriteMany'] }));
  expect((await claimPhase('later', 'Bound')).spec.volumeName).toBe('shared');
});

it('honours pre-binding both ways: a volume reserved for a claim, a claim naming its volume', async () => {
  await apply(pv('pre-free', '1Gi', { storageClassName: 'pre' }));
  await apply(pv('pre-reserved', '1Gi', { storageClassName: 'pre', claimRef: { namespace: 'default', name: 'pre-owner' } }));
  await apply(pv('pre-named', '5Gi', { storageClassName: 'pre' }));
  await volumePhase('pre-reserved', 'Available');
  // Another claim never takes the reserved volume, though it fits as well as the free one.
  await apply(pvc('pre-other', '1Gi', { storageClassName: 'pre' }));
  expect((await claimPhase('pre-other', 'Bound')).spec.volumeName).toBe('pre-free');
  await apply(pvc('pre-owner', '1Gi', { storageClassName: 'pre' }));
  expect((await claimPhase('pre-owner', 'Bound')).spec.volumeName).toBe('pre-reserved');
  await apply(pvc('pre-namer', '1Gi', { storageClassName: 'pre', volumeName: 'pre-named' }));
  expect((await claimPhase('pre-namer', 'Bound')).spec.volumeName).toBe('pre-named');
  expect((await volumePhase('pre-named', 'Bound')).spec.claimRef?.name).toBe('pre-namer');
});

it('lets a bound claim ask for more storage only when its class allows expansion, and never for less', async () => {
  await apply(sc('growable', { allowVolumeExpansion: true }));
  await apply(pv('grow-1', '5Gi', { storageClassName: 'growable' }));
  await apply(pv('fixed-1', '5Gi', { storageClassName: 'fixed' }));
  await apply(pvc('grows', '1Gi', { storageClassName: 'growable' }));
  await apply(pvc('fixed', '1Gi', { storageClassName: 'fixed' }));
  await claimPhase('grows', 'Bound');
  await claimPhase('fixed', 'Bound');
  expect((await apply<PersistentVolumeClaim>(pvc('grows', '2Gi', { storageClassName: 'growable' }))).spec.resources.requests.storage).toBe('2Gi');
  expect(String(await caught(apply(pvc('fixed', '2Gi', { storageClassName: 'fixed' }))))).toMatch(/storageclass that provisions the pvc must support resize/);
  expect(String(await caught(apply(pvc('grows', '1Gi', { storageClassName: 'growable' }))))).toMatch(/can not be less than previous value/);
});

it('gives a claim that names no class the default class when it is created', async () => {
  await apply(sc('standard', {}, true));
  const c = await apply<PersistentVolumeClaim>(pvc('defaulted', '1Gi'));
  expect(c.spec.storageClassName).toBe('standard');
  await apply(pv('standard-1', '1Gi', { storageClassName: 'standard' }));
  expect((await claimPhase('defaulted', 'Bound')).spec.volumeName).toBe('standard-1');
  // Made the default no more: later claims without a class stay without one.
  await apply(sc('standard'));
  expect((await apply<PersistentVolumeClaim>(pvc('classless', '1Gi'))).spec.storageClassName).toBeUndefined();
});

it('leaves a claim of a WaitForFirstConsumer class unbound, with its event', async () => {
  await apply(sc('local', { volumeBindingMode: 'WaitForFirstConsumer' }));
  await apply(pv('local-1', '1Gi', { storageClassName: 'local' }));
  await apply(pvc('waiting', '1Gi', { storageClassName: 'local' }));
  const ev = await claimEvent('waiting', 'WaitForFirstConsumer');
  expect(ev.message).toBe('waiting for first consumer to be created before binding');
  const c = await get<PersistentVolumeClaim>('pvc', 'waiting');
  expect(c?.status?.phase).toBe('Pending');
  expect(c?.spec.volumeName).toBeUndefined();
  expect((await get<PersistentVolume>('pv', 'local-1'))?.spec.claimRef).toBeUndefined();
});

it('releases a Retain volume when its claim goes, and deletes a Delete one', async () => {
  await apply(pv('keep', '1Gi', { storageClassName: 'retain-test' }));
  await apply(pv('drop', '1Gi', { storageClassName: 'delete-test', persistentVolumeReclaimPolicy: 'Delete' }));
  await apply(pvc('kept', '1Gi', { storageClassName: 'retain-test' }));
  await apply(pvc('dropped', '1Gi', { storageClassName: 'delete-test' }));
  await claimPhase('kept', 'Bound');
  await claimPhase('dropped', 'Bound');
  await del('pvc', 'kept');
  await del('pvc', 'dropped');
  const released = await volumePhase('keep', 'Released');
  expect(released.spec.claimRef?.name).toBe('kept');
  await gone('pv', 'drop');
  await gone('pvc', 'kept');
  // A Released volume does not bind a new claim of the same name (another uid).
  const again = await apply<PersistentVolumeClaim>(pvc('kept', '1Gi', { storageClassName: 'retain-test' }));
  await until('the new claim waiting', async () => (await listEvents(f.bus, { namespace: 'default', involvedUid: again.metadata.uid }))
    .items.find((e) => e.reason === 'ProvisioningFailed'));
  expect((await get<PersistentVolume>('pv', 'keep'))?.status?.phase).toBe('Released');
});

it('keeps a claim a pod uses Terminating until the pod is gone, and a bound volume until its claim is', async () => {
  await apply(pv('guarded', '1Gi', { storageClassName: 'guard' }));
  await apply(pvc('used', '1Gi', { storageClassName: 'guard' }));
  await claimPhase('used', 'Bound');
  // A pod that mounts the claim, written as it will be stored (not scheduled: no node runs here).
  const podKey = objectKey('pods', 'default', 'user');
  await f.store.create<KubeObject>(podKey, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'user', namespace: 'default', uid: 'pod-uid', creationTimestamp: new Date().toISOString() },
    spec: { containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'used' } }] },
    status: { phase: 'Pending' },
  } as KubeObject);
  expect((await del('pv', 'guarded')).result).toBe('terminating');
  expect((await del('pvc', 'used')).result).toBe('terminating');
  // A barrier, not a proof of absence: a later claim bound means the controllers have handled the
  // earlier deletions too (the claims' informer delivers in order), and they held.
  await apply(pv('barrier', '1Gi', { storageClassName: 'barrier' }));
  await apply(pvc('barrier', '1Gi', { storageClassName: 'barrier' }));
  await claimPhase('barrier', 'Bound');
  const held = await get<PersistentVolumeClaim>('pvc', 'used');
  expect(held?.metadata.deletionTimestamp).toBeDefined();
  expect(held?.metadata.finalizers).toContain(PVC_PROTECTION_FINALIZER);
  expect((await get<PersistentVolume>('pv', 'guarded'))?.status?.phase).toBe('Bound');
  await f.store.delete(podKey);
  await gone('pvc', 'used');
  await gone('pv', 'guarded');
});

it('finishes a binding a stopped control plane left half made (the volume written, the claim not)', async () => {
  await apply(pv('half-small', '1Gi', { storageClassName: 'half' }));
  await apply(pv('half-big', '5Gi', { storageClassName: 'half' }));
  await volumePhase('half-big', 'Available');
  await f.cp.stop();
  // As the first of the two writes leaves it (written to the store directly, no api runs): the
  // claim unbound, the larger volume already naming it and Bound.
  const claimKey = objectKey('persistentvolumeclaims', 'default', 'half');
  const uid = 'half-claim-uid';
  await f.store.create<KubeObject>(claimKey, {
    apiVersion: 'v1', kind: 'PersistentVolumeClaim',
    metadata: { name: 'half', namespace: 'default', uid, creationTimestamp: new Date().toISOString(), finalizers: [PVC_PROTECTION_FINALIZER] },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'half', volumeMode: 'Filesystem' },
    status: { phase: 'Pending' },
  } as KubeObject);
  const bigKey = objectKey('persistentvolumes', undefined, 'half-big');
  const big = await f.store.get<PersistentVolume>(bigKey);
  await f.store.update(bigKey, {
    ...big!.object,
    spec: { ...big!.object.spec, claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: 'default', name: 'half', uid } },
    status: { phase: 'Bound' },
  }, big!.revision);
  f.cp = await runControlPlane({ bus: { servers: f.server.url, name: 'cp-volume-test-2' } });
  const bound = await claimPhase('half', 'Bound');
  expect(bound.spec.volumeName).toBe('half-big');
  expect(bound.status?.capacity?.storage).toBe('5Gi');
  expect((await get<PersistentVolume>('pv', 'half-small'))?.status?.phase).toBe('Available');
});
