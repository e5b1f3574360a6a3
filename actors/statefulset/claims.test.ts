import type { PersistentVolumeClaim, Pod, StatefulSet } from '../../messages';
import {
  claimName, claimOwnerRefs, claimsForNewReplica, claimsToRetain, claimVolumes, desiredClaim, missingClaimsOfPending, retainedClaim, withClaimVolumes,
  type StatefulClaim,
} from './claims';

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

  const stored = (name: string, meta: Partial<PersistentVolumeClaim['metadata']> = {}): PersistentVolumeClaim => ({
    apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'ns1', uid: `uid-${name}`, ...meta }, spec: template.spec,
  } as PersistentVolumeClaim);
  const byName = (...claims: PersistentVolumeClaim[]) => new Map(claims.map((c) => [c.metadata.name, c]));

  it('mounts the claims first, replacing a template volume of the same name and keeping the others', () => {
    const base: Pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1' },
      spec: { containers: [{ name: 'c', image: 'i' }], volumes: [{ name: 'www', emptyDir: {} }, { name: 'tmp', emptyDir: {} }] },
    };
    expect(withClaimVolumes(sts(), base, 1).spec.volumes).toEqual([
      { name: 'www', persistentVolumeClaim: { claimName: 'www-web-1' } },
      { name: 'logs', persistentVolumeClaim: { claimName: 'logs-web-1' } },
      { name: 'tmp', emptyDir: {} },
    ]);
    expect(base.spec.volumes).toHaveLength(2);
    const plain = { ...sts(), spec: { ...sts().spec, volumeClaimTemplates: undefined } };
    expect(withClaimVolumes(plain, base, 1)).toBe(base);
  });

  it('makes only the missing claims of a new replica and reuses the existing ones as they are', () => {
    const need = claimsForNewReplica(sts(), 1, byName(stored('www-web-1', { labels: { mine: 'yes' } }), stored('www-web-0')));
    expect(need.blocked).toBeUndefined();
    expect(need.create.map((c) => c.metadata.name)).toEqual(['logs-web-1']);
    expect(claimsForNewReplica(sts(), 0, byName()).create.map((c) => c.metadata.name)).toEqual(['www-web-0', 'logs-web-0']);
    expect(claimsForNewReplica(sts({ whenDeleted: 'Delete' }), 0, byName()).create[0].metadata.ownerReferences).toEqual([SET_REF]);
  });

  it('holds a new replica back while one of its claims is being deleted, as a failure', () => {
    const need = claimsForNewReplica(sts(), 1, byName(stored('logs-web-1', { deletionTimestamp: '2026-01-01T00:00:00Z' })));
    expect(need.blocked).toEqual({ message: 'pvc logs-web-1 is being deleted', failed: true });
    expect(need.create.map((c) => c.metadata.name)).toEqual(['www-web-1']);
  });

  it('under whenScaled Delete, lets a new replica wait for a claim its former pod still owns', () => {
    const former = stored('www-web-2', { ownerReferences: [podRef(2)] });
    expect(claimsForNewReplica(sts({ whenScaled: 'Delete' }, 3), 2, byName(former)).blocked)
      .toEqual({ message: 'pvc www-web-2 still belongs to a former pod web-2 and goes with it', failed: false });
    // Under Retain a pod never owns a claim it could leave stale.
    expect(claimsForNewReplica(sts({ whenScaled: 'Retain' }, 3), 2, byName(former)).blocked).toBeUndefined();
  });

  it("brings the claims of the set's pods in line with the policy: the pods a scale-down removes own theirs", () => {
    const s = sts({ whenScaled: 'Delete' }, 1);
    const claims = byName(stored('www-web-0'), stored('logs-web-0'), stored('www-web-1'), stored('logs-web-1', { deletionTimestamp: 'x' }), stored('www-web-2'));
    const out = claimsToRetain(s, [pod(0), pod(1)], claims);
    // web-1 is condemned: its claim (not the one being deleted) gets the pod as owner; web-0 keeps its own; web-2 has no pod.
    expect(out.map((c) => [c.metadata.name, c.metadata.ownerReferences])).toEqual([['www-web-1', [podRef(1)]]]);
    expect(claimsToRetain(sts({ whenDeleted: 'Delete' }), [pod(0)], claims).map((c) => c.metadata.name)).toEqual(['www-web-0', 'logs-web-0']);
    expect(claimsToRetain(sts(), [pod(0), pod(1)], claims)).toEqual([]);
    const deleting = { ...s, metadata: { ...s.metadata, deletionTimestamp: 'x' } };
    expect(claimsToRetain(deleting, [pod(1)], claims)).toEqual([]);
  });

  it('makes again the claims missing under Pending pods in range, and none for running, condemned or terminating ones', () => {
    const running = { ...pod(0), status: { phase: 'Running' as const } };
    const leaving = { ...pod(1), metadata: { ...pod(1).metadata, deletionTimestamp: 'x' } };
    const claims = byName(stored('www-web-2'));
    expect(missingClaimsOfPending(sts(undefined, 3), [running, leaving, pod(2)], claims).map((m) => [m.podName, m.claim.metadata.name]))
      .toEqual([['web-2', 'logs-web-2']]);
    expect(missingClaimsOfPending(sts(undefined, 2), [pod(2)], byName())).toEqual([]);
  });
});
