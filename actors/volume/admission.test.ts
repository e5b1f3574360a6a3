import { admitUpdate } from '../api/admission';
import {
  BIND_COMPLETED_ANNOTATION, PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER,
  type KubeObject, type PersistentVolume, type PersistentVolumeClaim, type StorageClass,
} from '../../messages';
import { defaultClaim, defaultStorageClass, defaultVolume } from './admission';
import { claim, storageClass, volume } from './fixtures';
import { persistentVolumeClaimModule, persistentVolumeModule, storageClassModule } from './kind';

const k = (o: unknown): KubeObject => o as KubeObject;

describe('defaults', () => {
  it("gives a volume Retain, Filesystem and pv-protection; a claim Filesystem, pvc-protection and no null class", () => {
    const v = volume('v', '1Gi');
    delete v.spec.persistentVolumeReclaimPolicy;
    const dv = defaultVolume(k(v)) as unknown as PersistentVolume;
    expect(dv.spec).toMatchObject({ persistentVolumeReclaimPolicy: 'Retain', volumeMode: 'Filesystem' });
    expect(dv.metadata.finalizers).toEqual([PV_PROTECTION_FINALIZER]);
    const dc = defaultClaim(k(claim('c', '1Gi', { storageClassName: null }))) as unknown as PersistentVolumeClaim;
    expect(dc.spec.volumeMode).toBe('Filesystem');
    expect('storageClassName' in dc.spec).toBe(false);
    expect(dc.metadata.finalizers).toEqual([PVC_PROTECTION_FINALIZER]);
    expect(defaultStorageClass(k(storageClass('s')))).toMatchObject({ reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate' });
  });
});

describe('claim updates', () => {
  const bound = (): PersistentVolumeClaim => {
    const c = claim('c', '1Gi', { storageClassName: 'std', volumeName: 'v' });
    c.metadata.annotations = { [BIND_COMPLETED_ANNOTATION]: 'yes' };
    c.status = { phase: 'Bound', capacity: { storage: '1Gi' } };
    return c;
  };
  it('keeps the volume, class and binding annotations the server set when the manifest leaves them out', () => {
    const next = admitUpdate(persistentVolumeClaimModule, k(bound()), k({ ...claim('c', '1Gi'), metadata: { name: 'c', namespace: 'default', labels: { a: 'b' } } })) as unknown as PersistentVolumeClaim;
    expect(next.spec).toMatchObject({ volumeName: 'v', storageClassName: 'std' });
    expect(next.metadata.annotations).toEqual({ [BIND_COMPLETED_ANNOTATION]: 'yes' });
    expect(next.metadata.labels).toEqual({ a: 'b' });
  });
  it('lets a bound claim grow, never shrink; refuses any other spec change', () => {
    const grown = admitUpdate(persistentVolumeClaimModule, k(bound()), k(claim('c', '2Gi'))) as unknown as PersistentVolumeClaim;
    expect(grown.spec.resources.requests.storage).toBe('2Gi');
    expect(() => admitUpdate(persistentVolumeClaimModule, k(bound()), k(claim('c', '500Mi')))).toThrow(/can not be less than previous value \(1Gi\)/);
    expect(() => admitUpdate(persistentVolumeClaimModule, k(bound()), k(claim('c', '1Gi', { accessModes: ['ReadWriteMany'] })))).toThrow(/spec is immutable after creation except resources\.requests/);
    expect(() => admitUpdate(persistentVolumeClaimModule, k(bound()), k(claim('c', '1Gi', { storageClassName: 'other' })))).toThrow(/spec is immutable/);
    expect(() => admitUpdate(persistentVolumeClaimModule, k(claim('c', '1Gi')), k(claim('c', '2Gi')))).toThrow(/for bound claims/);
  });
  it('lets a class or a volume be given once where there was none', () => {
    const next = admitUpdate(persistentVolumeClaimModule, k(claim('c', '1Gi')), k(claim('c', '1Gi', { storageClassName: 'std', volumeName: 'v' }))) as unknown as PersistentVolumeClaim;
    expect(next.spec).toMatchObject({ storageClassName: 'std', volumeName: 'v' });
  });
});

describe('volume updates', () => {
  const ref = { namespace: 'default', name: 'c', uid: 'u' };
  it('refuses a change of source, keeps a Bound claimRef the manifest leaves out or writes again without its uid, frees a Released one', () => {
    expect(() => admitUpdate(persistentVolumeModule, k(volume('v', '1Gi')), k(volume('v', '1Gi', { hostPath: { path: '/elsewhere' } }))))
      .toThrow(/spec\.persistentvolumesource is immutable after creation/);
    const boundPv = { ...volume('v', '1Gi', { claimRef: ref }), status: { phase: 'Bound' as const } };
    const kept = admitUpdate(persistentVolumeModule, k(boundPv), k(volume('v', '2Gi'))) as unknown as PersistentVolume;
    expect(kept.spec).toMatchObject({ claimRef: ref, capacity: { storage: '2Gi' } });
    const again = admitUpdate(persistentVolumeModule, k(boundPv), k(volume('v', '1Gi', { claimRef: { namespace: 'default', name: 'c' } }))) as unknown as PersistentVolume;
    expect(again.spec.claimRef).toEqual(ref);
    const released = { ...boundPv, status: { phase: 'Released' as const } };
    expect((admitUpdate(persistentVolumeModule, k(released), k(volume('v', '1Gi'))) as unknown as PersistentVolume).spec.claimRef).toBeUndefined();
  });
});

describe('class updates', () => {
  it('refuses a change of provisioner, parameters, reclaim policy or binding mode; annotations may change', () => {
    const s: StorageClass = { ...storageClass('s'), reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate' };
    expect(() => admitUpdate(storageClassModule, k(s), k({ ...s, provisioner: 'x' }))).toThrow(/updates to provisioner are forbidden/);
    expect(() => admitUpdate(storageClassModule, k(s), k({ ...s, parameters: { a: 'b' } }))).toThrow(/updates to parameters are forbidden/);
    expect(() => admitUpdate(storageClassModule, k(s), k({ ...s, volumeBindingMode: 'WaitForFirstConsumer' }))).toThrow(/volumeBindingMode/);
    const marked = admitUpdate(storageClassModule, k(s), k({ ...s, metadata: { ...s.metadata, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } }));
    expect(marked?.metadata.annotations).toEqual({ 'storageclass.kubernetes.io/is-default-class': 'true' });
  });
});

describe('class creation', () => {
  const lp = (nodePath: string): KubeObject => k({ ...storageClass('lp', { provisioner: 'mk.io/local-path' }), parameters: { nodePath } });
  const allocate = (existing: KubeObject | undefined, next: KubeObject) => storageClassModule.allocate!(undefined as never, existing, next, false);

  it('refuses a local-path class whose nodePath the provisioner cannot use, naming parameters.nodePath', async () => {
    for (const bad of ['relative', '/', '//', '/srv/../etc']) {
      await expect(allocate(undefined, lp(bad))).rejects.toThrow(/StorageClass "lp" is invalid: parameters\.nodePath: parameter nodePath must be an absolute directory/);
    }
    await expect(allocate(undefined, k({ ...storageClass('lp', { provisioner: 'mk.io/local-path' }), parameters: { pathPattern: 'x' } })))
      .rejects.toThrow(/parameters: unsupported parameter "pathPattern"/);
  });

  it('admits a nodePath that only needs normalizing, other provisioners, and updates (parameters never change)', async () => {
    expect((await allocate(undefined, lp('/srv//vols/./a/'))).object).toEqual(lp('/srv//vols/./a/'));
    await expect(allocate(undefined, k({ ...storageClass('other', { provisioner: 'example.com/nfs' }), parameters: { nodePath: 'x' } }))).resolves.toBeDefined();
    await expect(allocate(lp('relative'), lp('relative'))).resolves.toBeDefined();
  });
});
