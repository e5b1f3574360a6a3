import type { Pod, StatefulSet } from '../../messages';
import { claimName, claimOwnerRefs, claimVolumes, desiredClaim, retainedClaim, type StatefulClaim } from './claims';

const template = { metadata: { name: 'www', labels: { tier: 'db', app: 'other' }, annotations: { note: 'x' } }, spec: { accessModes: ['ReadWriteOnce' as const], resources: { requests: { storage: '1Gi' } } } };
const sts = (policy?: StatefulSet['spec']['persistentVolumeClaimRetentionPolicy'], replicas = 2): StatefulSet => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet',
  metadata: { name: 'web', namespace: 'ns1', uid: 'sts-uid' },
  spec: {
    replicas, selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
    volumeClaimTemplates: [template, { ...template, metadata: { name: 'logs' } }],
    persistentVolumeClaimRetentionPolicy: policy,
  },
});
const pod = (ordinal: number): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `web-${ordinal}`, uid: `pod-${ordinal}` }, spec: { containers: [] } });
const SET_REF = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'sts-uid' };
const podRef = (ordinal: number) => ({ apiVersion: 'v1', kind: 'Pod', name: `web-${ordinal}`, uid: `pod-${ordinal}` });

describe('StatefulSet claims', () => {
  it('names each claim <template>-<set>-<ordinal> and mounts it as the volume named by the template', () => {
    expect(claimName('www', 'web', 3)).toBe('www-web-3');
    expect(claimVolumes(sts(), 1)).toEqual([
      { name: 'www', persistentVolumeClaim: { claimName: 'www-web-1' } },
      { name: 'logs', persistentVolumeClaim: { claimName: 'logs-web-1' } },
    ]);
  });

  it("labels a claim with the template's labels and the set's selector labels over them, in the set's namespace", () => {
    const c = desiredClaim(sts(), template, 0, pod(0));
    expect(c).toEqual({
      apiVersion: 'v1', kind: 'PersistentVolumeClaim',
      metadata: { name: 'www-web-0', namespace: 'ns1', labels: { tier: 'db', app: 'web' }, annotations: { note: 'x' } },
      spec: template.spec,
    });
    expect(c.spec).not.toBe(template.spec);
  });

  it('keeps claims ownerless by default (Retain/Retain)', () => {
    expect(claimOwnerRefs(sts(), 0, pod(0))).toEqual([]);
    expect(claimOwnerRefs(sts({ whenDeleted: 'Retain', whenScaled: 'Retain' }), 5, pod(5))).toEqual([]);
  });

  it('whenDeleted Delete: the set owns every claim', () => {
    expect(claimOwnerRefs(sts({ whenDeleted: 'Delete' }), 0, pod(0))).toEqual([SET_REF]);
    expect(desiredClaim(sts({ whenDeleted: 'Delete' }), template, 1).metadata.ownerReferences).toEqual([SET_REF]);
  });

  it('whenScaled Delete: the pod owns the claims of ordinals at or above replicas only', () => {
    const s = sts({ whenScaled: 'Delete' }, 2);
    expect(claimOwnerRefs(s, 1, pod(1))).toEqual([]);
    expect(claimOwnerRefs(s, 2, pod(2))).toEqual([podRef(2)]);
    expect(claimOwnerRefs(s, 2, undefined)).toEqual([]);
    expect(claimOwnerRefs(sts({ whenScaled: 'Delete', whenDeleted: 'Delete' }, 2), 3, pod(3))).toEqual([SET_REF, podRef(3)]);
  });

  it('brings an existing claim in line when the policy or the replicas change, keeping other owners', () => {
    const other = { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'cm' };
    const claim = { metadata: { name: 'www-web-2', ownerReferences: [other, podRef(2)] } };
    // Scaled back up to 3: web-2 is no longer condemned, so its pod no longer owns the claim.
    expect(retainedClaim(claim, sts({ whenScaled: 'Delete' }, 3), 2, pod(2))?.metadata.ownerReferences).toEqual([other]);
    expect(retainedClaim(claim, sts({ whenScaled: 'Delete' }, 2), 2, pod(2))).toBeNull();
    const bare = retainedClaim({ metadata: { name: 'www-web-0', ownerReferences: [SET_REF] } }, sts(), 0, pod(0));
    expect(bare?.metadata).toEqual({ name: 'www-web-0' });
    expect(retainedClaim({ metadata: { name: 'www-web-0' } as StatefulClaim['metadata'] }, sts({ whenDeleted: 'Delete' }), 0, pod(0))?.metadata.ownerReferences).toEqual([SET_REF]);
  });
});
