import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { validateManifest } from './manifest';
import { accessModesText, claimClass, defaultClass, DEFAULT_CLASS_ANNOTATION, storageBytes } from './storage';
import { PersistentVolumeClaimKind, PersistentVolumeKind, StorageClassKind } from './kinds/persistent-volume';
import type { KubeObject } from './meta';

const pv = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'v' },
  spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data/v' }, ...spec }, ...extra,
});
const pvc = (spec: Record<string, unknown>) => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'c' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
});
const sc = (extra: Record<string, unknown>) => ({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 's' }, provisioner: 'p', ...extra });
const affinity = { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] }] } };

describe('PersistentVolume schema', () => {
  it('accepts each source: hostPath, local with node affinity, nfs with mount options', () => {
    expect(validateManifest(pv({})).kind.kind).toBe('PersistentVolume');
    expect(() => validateManifest(pv({ hostPath: undefined, local: { path: '/mnt/disk' }, nodeAffinity: affinity }))).not.toThrow();
    expect(() => validateManifest(pv({ hostPath: undefined, nfs: { server: '10.0.0.1', path: '/export', readOnly: true }, mountOptions: ['nfsvers=4.1'] }))).not.toThrow();
  });
  it('wants exactly one source', () => {
    expect(() => validateManifest(pv({ hostPath: undefined }))).toThrow(/must specify a volume type: one of hostPath, local, nfs/);
    expect(() => validateManifest(pv({ nfs: { server: 's', path: '/e' } }))).toThrow(/may not specify more than 1 volume type \(got hostPath, nfs\)/);
  });
  it('refuses a local volume without node affinity, as Kubernetes does', () => {
    expect(() => validateManifest(pv({ hostPath: undefined, local: { path: '/mnt/disk' } }))).toThrow(/nodeAffinity: Local volume requires node affinity/);
  });
  it('refuses Block and Recycle by name, and unknown values', () => {
    expect(() => validateManifest(pv({ volumeMode: 'Block' }))).toThrow(/volumeMode Block is not supported/);
    expect(() => validateManifest(pv({ persistentVolumeReclaimPolicy: 'Recycle' }))).toThrow(/Recycle is deprecated/);
    expect(() => validateManifest(pv({ persistentVolumeReclaimPolicy: 'Keep' }))).toThrow(/must be Retain or Delete/);
    expect(() => validateManifest(pv({ persistentVolumeReclaimPolicy: 'Delete', volumeMode: 'Filesystem' }))).not.toThrow();
  });
  it('checks access modes, capacity and paths', () => {
    expect(() => validateManifest(pv({ accessModes: [] }))).toThrow(/at least 1 access mode is required/);
    expect(() => validateManifest(pv({ accessModes: ['ReadWriteOncePod', 'ReadOnlyMany'] }))).toThrow(/ReadWriteOncePod with other access modes/);
    expect(() => validateManifest(pv({ accessModes: ['ReadWriteSometimes'] }))).toThrow(/accessModes/);
    expect(() => validateManifest(pv({ capacity: { storage: 'lots' } }))).toThrow(/invalid quantity "lots"/);
    expect(() => validateManifest(pv({ capacity: { storage: '0' } }))).toThrow(/capacity\.storage: must be greater than zero/);
    expect(() => validateManifest(pv({ hostPath: { path: 'data' } }))).toThrow(/hostPath\.path must be an absolute path/);
    expect(() => validateManifest(pv({ hostPath: { path: '/a/../b' } }))).toThrow(/must not contain '\.\.'/);
    expect(() => validateManifest(pv({ mountOptions: ['ro'] }))).toThrow(/only nfs takes them/);
  });
  it('names a field mk does not support', () => {
    expect(() => validateManifest(pv({ csi: { driver: 'x' } }))).toThrow(/csi/);
  });
  it('takes a claimRef for pre-binding, of a claim only', () => {
    expect(() => validateManifest(pv({ claimRef: { namespace: 'default', name: 'c' } }))).not.toThrow();
    expect(() => validateManifest(pv({ claimRef: { kind: 'Pod', namespace: 'default', name: 'c' } }))).toThrow(/must name a PersistentVolumeClaim/);
  });
});

describe('PersistentVolumeClaim schema', () => {
  it('requires resources.requests.storage', () => {
    expect(() => validateManifest(pvc({ resources: { requests: {} } }))).toThrow(/storage/);
    expect(() => validateManifest(pvc({ resources: {} }))).toThrow(/requests/);
  });
  it('takes a null, empty or named class, a selector, a volume name', () => {
    for (const storageClassName of [null, '', 'fast']) expect(() => validateManifest(pvc({ storageClassName }))).not.toThrow();
    expect(() => validateManifest(pvc({ selector: { matchLabels: { tier: 'gold' } }, volumeName: 'v' }))).not.toThrow();
  });
  it('refuses Block and an empty access mode list', () => {
    expect(() => validateManifest(pvc({ volumeMode: 'Block' }))).toThrow(/Block is not supported/);
    expect(() => validateManifest(pvc({ accessModes: [] }))).toThrow(/at least 1 access mode/);
  });
});

describe('StorageClass schema', () => {
  it('wants a provisioner and takes the known policies and binding modes only', () => {
    expect(() => validateManifest(sc({ reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true, parameters: { a: 'b' } }))).not.toThrow();
    expect(() => validateManifest(sc({ provisioner: undefined }))).toThrow(/provisioner/);
    expect(() => validateManifest(sc({ reclaimPolicy: 'Recycle' }))).toThrow(/reclaimPolicy/);
    expect(() => validateManifest(sc({ volumeBindingMode: 'Later' }))).toThrow(/volumeBindingMode/);
  });
});

describe('storage helpers', () => {
  it('prints access modes as kubectl does, in a fixed order', () => {
    expect(accessModesText(['ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOnce'])).toBe('RWO,RWX');
    expect(accessModesText(['ReadWriteOncePod'])).toBe('RWOP');
    expect(accessModesText(['ReadOnlyMany'])).toBe('ROX');
    expect(accessModesText(undefined)).toBe('');
  });
  it('reads sizes and classes', () => {
    expect(storageBytes('1Gi')).toBe(2 ** 30);
    expect(storageBytes('500M')).toBe(5e8);
    expect(claimClass({ metadata: {}, spec: {} })).toBe('');
    expect(claimClass({ metadata: { annotations: { 'volume.beta.kubernetes.io/storage-class': 'old' } }, spec: {} })).toBe('old');
    expect(claimClass({ metadata: {}, spec: { storageClassName: 'fast' } })).toBe('fast');
  });
  it('picks the newest default class', () => {
    const mk = (name: string, ts: string, def: boolean) => ({ metadata: { name, creationTimestamp: ts, annotations: (def ? { [DEFAULT_CLASS_ANNOTATION]: 'true' } : {}) as Record<string, string> } });
    expect(defaultClass([mk('a', '2026-01-01T00:00:00Z', true), mk('b', '2026-02-01T00:00:00Z', true), mk('c', '2026-03-01T00:00:00Z', false)])?.metadata.name).toBe('b');
    expect(defaultClass([mk('c', '2026-03-01T00:00:00Z', false)])).toBeUndefined();
  });
});

describe('columns', () => {
  const cells = (kind: typeof PersistentVolumeKind, o: unknown) => Object.fromEntries(kind.columns.map((c) => [c.name, c.value(o as KubeObject, Date.parse('2026-01-01T00:05:00Z'))]));
  const meta = { name: 'v', creationTimestamp: '2026-01-01T00:00:00Z' };
  it('prints a volume as kubectl get pv', () => {
    const v = { metadata: meta, spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: 'manual', claimRef: { namespace: 'default', name: 'c' } }, status: { phase: 'Bound' } };
    expect(PersistentVolumeKind.columns.map((c) => c.name)).toEqual(['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'REASON', 'AGE', 'VOLUMEMODE']);
    expect(cells(PersistentVolumeKind, v)).toEqual({ NAME: 'v', CAPACITY: '5Gi', 'ACCESS MODES': 'RWO,ROX', 'RECLAIM POLICY': 'Retain', STATUS: 'Bound', CLAIM: 'default/c', STORAGECLASS: 'manual', REASON: '', AGE: '5m', VOLUMEMODE: 'Filesystem' });
    expect(cells(PersistentVolumeKind, { ...v, metadata: { ...meta, deletionTimestamp: '2026-01-01T00:04:00Z' } }).STATUS).toBe('Terminating');
  });
  it('prints a claim as kubectl get pvc', () => {
    const c = { metadata: meta, spec: { volumeName: 'v', storageClassName: 'manual' }, status: { phase: 'Bound', capacity: { storage: '5Gi' }, accessModes: ['ReadWriteMany'] } };
    expect(PersistentVolumeClaimKind.columns.map((x) => x.name)).toEqual(['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'AGE', 'VOLUMEMODE']);
    expect(cells(PersistentVolumeClaimKind, c)).toMatchObject({ STATUS: 'Bound', VOLUME: 'v', CAPACITY: '5Gi', 'ACCESS MODES': 'RWX', STORAGECLASS: 'manual' });
  });
  it('prints a class as kubectl get sc, the default marked', () => {
    const s = { metadata: { ...meta, name: 'local', annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } }, provisioner: 'mk.io/local-path' };
    expect(cells(StorageClassKind, s)).toEqual({ NAME: 'local (default)', PROVISIONER: 'mk.io/local-path', RECLAIMPOLICY: 'Delete', VOLUMEBINDINGMODE: 'Immediate', ALLOWVOLUMEEXPANSION: 'false', AGE: '5m' });
  });
});

describe('examples/storage.yaml', () => {
  it('is a valid StorageClass, PersistentVolume and PersistentVolumeClaim', () => {
    const docs = loadAll(readFileSync(join(__dirname, '..', 'examples', 'storage.yaml'), 'utf8'));
    expect(docs.map((d) => validateManifest(d).kind.kind)).toEqual(['StorageClass', 'PersistentVolume', 'PersistentVolumeClaim']);
  });
});

describe('examples/claim-pod.yaml', () => {
  it('is a valid Pod mounting the claim of examples/storage.yaml', () => {
    const docs = loadAll(readFileSync(join(__dirname, '..', 'examples', 'claim-pod.yaml'), 'utf8'));
    expect(docs.map((d) => validateManifest(d).kind.kind)).toEqual(['Pod']);
    expect((docs[0] as { spec: { volumes: { persistentVolumeClaim: { claimName: string } }[] } }).spec.volumes[0].persistentVolumeClaim.claimName).toBe('data');
  });
});
