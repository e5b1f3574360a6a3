import type { Pod } from '../pod';
import { podClaimNames } from '../storage';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../persistent-volume';
import { describePersistentVolume, describePersistentVolumeClaim, describeStorageClass } from './describe-persistent-volume';

const now = Date.parse('2026-01-01T01:00:00Z');
const meta = { creationTimestamp: '2026-01-01T00:00:00Z' };

describe('describe of the storage kinds', () => {
  it('describes a volume as kubectl: phase, claim, modes, node affinity and source', () => {
    const pv: PersistentVolume = {
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'disk', ...meta, finalizers: ['kubernetes.io/pv-protection'] },
      spec: {
        capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'local', persistentVolumeReclaimPolicy: 'Delete',
        claimRef: { namespace: 'default', name: 'data', uid: 'u' }, local: { path: '/mnt/disk' },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1', 'n2'] }] }] } },
      },
      status: { phase: 'Bound' },
    };
    const text = describePersistentVolume(pv, [], now);
    for (const line of ['Name:\tdisk\n', 'Finalizers:\t[kubernetes.io/pv-protection]\n', 'StorageClass:\tlocal\n', 'Status:\tBound\n',
      'Claim:\tdefault/data\n', 'Reclaim Policy:\tDelete\n', 'Access Modes:\tRWO\n', 'Capacity:\t10Gi\n', '  Required Terms:\t\n',
      '    Term 0:\tkubernetes.io/hostname in [n1, n2]\n', '    Type:\tLocalVolume (a persistent volume backed by local storage on a node)\n',
      '    Path:\t/mnt/disk\n', 'Events:\t<none>\n']) {
      expect(text).toContain(line);
    }
  });

  it('describes a claim with the pods that use it, and Terminating while deleted', () => {
    const c: PersistentVolumeClaim = {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default', ...meta, deletionTimestamp: '2026-01-01T00:55:00Z' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'local', volumeName: 'disk' },
      status: { phase: 'Bound', capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce'] },
    };
    const pods = [{ metadata: { name: 'web-2' } }, { metadata: { name: 'web-1' } }] as Pod[];
    const text = describePersistentVolumeClaim(c, pods, undefined, now);
    expect(text).toContain('Status:\tTerminating (lasts 5m)\n');
    expect(text).toContain('Volume:\tdisk\n');
    expect(text).toContain('Used By:\tweb-1\n\tweb-2\n');
    expect(describePersistentVolumeClaim({ ...c, metadata: { name: 'data' } }, [], undefined, now)).toContain('Used By:\t<none>\n');
  });

  it('describes a class, the default said so', () => {
    const sc: StorageClass = {
      apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', provisioner: 'mk.io/local-path', volumeBindingMode: 'WaitForFirstConsumer',
      metadata: { name: 'local', ...meta, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    };
    const text = describeStorageClass(sc, undefined, now);
    for (const line of ['IsDefaultClass:\tYes\n', 'Annotations:\tstorageclass.kubernetes.io/is-default-class=true\n', 'Provisioner:\tmk.io/local-path\n',
      'Parameters:\t<none>\n', 'AllowVolumeExpansion:\t<unset>\n', 'ReclaimPolicy:\tDelete\n', 'VolumeBindingMode:\tWaitForFirstConsumer\n']) {
      expect(text).toContain(line);
    }
  });
});

describe('podClaimNames', () => {
  it("reads the claims of a pod's volumes, whatever else the volumes are", () => {
    const pod = { spec: { volumes: [{ name: 'a', persistentVolumeClaim: { claimName: 'data' } }, { name: 'b', emptyDir: {} }, null, { name: 'c', persistentVolumeClaim: { claimName: '' } }] } };
    expect(podClaimNames(pod)).toEqual(['data']);
    expect(podClaimNames({ spec: { containers: [] } })).toEqual([]);
    expect(podClaimNames({})).toEqual([]);
  });
});
