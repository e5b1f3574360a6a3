import {
  isLocalPathVolume, localPathStorageClass, localVolumeClaimOf, localVolumeDir, localVolumeDirName, LOCAL_PATH_PROVISIONER, PROVISIONED_BY_ANNOTATION, volumeNodeName,
} from './local-path';
import { StorageClassSchema, type PersistentVolume } from './persistent-volume';

const affinity = (terms: NonNullable<PersistentVolume['spec']['nodeAffinity']>['required']['nodeSelectorTerms']): Pick<PersistentVolume, 'spec'> => ({
  spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], nodeAffinity: { required: { nodeSelectorTerms: terms } } },
});

describe('local-path names', () => {
  it('makes a valid default class, with nodePath only when given', () => {
    expect(StorageClassSchema.safeParse(localPathStorageClass()).success).toBe(true);
    expect(localPathStorageClass().parameters).toBeUndefined();
    expect(localPathStorageClass('/d/storage').parameters).toEqual({ nodePath: '/d/storage' });
    expect(localPathStorageClass().metadata.annotations).toEqual({ 'storageclass.kubernetes.io/is-default-class': 'true' });
  });

  it('names a directory pvc-<uid>_<namespace>_<claim> under the base, whatever its trailing slashes', () => {
    expect(localVolumeDir('/var/lib/mk/storage/', { uid: 'u1', namespace: 'ns', name: 'data' })).toBe('/var/lib/mk/storage/pvc-u1_ns_data');
  });

  it("reads the claim a volume's directory is named after only from a claimRef with uid, namespace and name", () => {
    const spec = (claimRef?: PersistentVolume['spec']['claimRef']) => ({ spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], ...(claimRef ? { claimRef } : {}) } }) as Pick<PersistentVolume, 'spec'>;
    const claim = localVolumeClaimOf(spec({ kind: 'PersistentVolumeClaim', namespace: 'ns', name: 'data', uid: 'u1' }));
    expect(claim).toEqual({ uid: 'u1', namespace: 'ns', name: 'data' });
    expect(localVolumeDirName(claim!)).toBe('pvc-u1_ns_data');
    expect(localVolumeClaimOf(spec({ namespace: 'ns', name: 'data' }))).toBeUndefined();
    expect(localVolumeClaimOf(spec())).toBeUndefined();
  });

  it('reads the one node of a volume from a single hostname term, and none from anything else', () => {
    const host = (values: string[], operator = 'In') => ({ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: operator as 'In', values }] });
    expect(volumeNodeName(affinity([host(['n1'])]))).toBe('n1');
    expect(volumeNodeName(affinity([host(['n1', 'n2'])]))).toBeUndefined();
    expect(volumeNodeName(affinity([host(['n1'], 'NotIn')]))).toBeUndefined();
    expect(volumeNodeName(affinity([host(['n1']), host(['n2'])]))).toBeUndefined();
    expect(volumeNodeName({ spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] } })).toBeUndefined();
  });

  it('tells its volumes by the provisioned-by annotation', () => {
    expect(isLocalPathVolume({ metadata: { name: 'a', annotations: { [PROVISIONED_BY_ANNOTATION]: LOCAL_PATH_PROVISIONER } } })).toBe(true);
    expect(isLocalPathVolume({ metadata: { name: 'a', annotations: { [PROVISIONED_BY_ANNOTATION]: 'rancher.io/local-path' } } })).toBe(false);
    expect(isLocalPathVolume({ metadata: { name: 'a' } })).toBe(false);
  });
});
