/**
 * The storage invariants judge made-up worlds: settled claims, volumes and node directories pass,
 * and each way they can be wrong is reported under its invariant. The manifests validate.
 */
import { loadAll } from 'js-yaml';
import { validateManifest, type KubeObject, type PersistentVolume, type PersistentVolumeClaim, type Pod } from '../../messages';
import { createRng } from '../helpers/chaos-random';
import type { WorldSnapshot } from './kind';
import {
  checkClaims, checkConfigValue, checkMarker, checkNodeVolumes, checkStorageCleaned, checkVolumes, mountPodUid, type ClaimRecord, type StorageProbe,
} from './storage-invariants';
import {
  claimManifest, claimPodManifest, configMapManifest, planStorage, podOfClaim, secretManifest, storageReplicaSetManifest,
} from './storage-plan';

function claim(name: string, uid: string, o: { phase?: 'Pending' | 'Bound'; volume?: string } = {}): PersistentVolumeClaim {
  return {
    apiVersion: 'v1', kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'default', uid, labels: { 'chaos-storage': 't' } },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } }, ...(o.volume ? { volumeName: o.volume } : {}) },
    status: { phase: o.phase ?? 'Bound' },
  } as PersistentVolumeClaim;
}

function pv(name: string, o: { phase?: 'Bound' | 'Released' | 'Available'; claim?: string; uid?: string; policy?: 'Delete' | 'Retain' } = {}): PersistentVolume {
  return {
    apiVersion: 'v1', kind: 'PersistentVolume',
    metadata: { name, uid: `pv-${name}` },
    spec: {
      capacity: { storage: '64Mi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: o.policy ?? 'Delete',
      ...(o.claim ? { claimRef: { namespace: 'default', name: o.claim, ...(o.uid ? { uid: o.uid } : {}) } } : {}),
    },
    status: { phase: o.phase ?? 'Bound' },
  } as PersistentVolume;
}

const pod = (uid: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${uid}`, namespace: 'default', uid }, spec: { containers: [] } } as unknown as Pod);

function world(o: { claims?: PersistentVolumeClaim[]; volumes?: PersistentVolume[]; pods?: Pod[]; extra?: Record<string, KubeObject[]> } = {}): WorldSnapshot {
  const objects = new Map<string, KubeObject[]>([
    ['persistentvolumeclaims', o.claims ?? []], ['persistentvolumes', o.volumes ?? []], ['pods', o.pods ?? []],
    ...Object.entries(o.extra ?? {}),
  ]);
  return { atMs: 0, objects, seenContainers: [], seenSandboxes: [] };
}

const rec = (name: string, deleted = false): ClaimRecord => ({ name, namespace: 'default', applied: !deleted, deleted });
const names = (vs: { invariant: string }[]) => vs.map((x) => x.invariant);

describe('claims', () => {
  it('passes with every claim Bound to a volume whose claimRef names it back with its uid, and a deleted one gone', () => {
    const w = world({ claims: [claim('a', 'A', { volume: 'pv-a' })], volumes: [pv('pv-a', { claim: 'a', uid: 'A' })] });
    expect(checkClaims([rec('a'), rec('b', true)], w)).toEqual([]);
    expect(checkVolumes(w)).toEqual([]);
  });

  it('reports a Pending claim, a lost one, a deleted one still there, and a volume bound to another uid', () => {
    const w = world({
      claims: [claim('a', 'A', { phase: 'Pending' }), claim('c', 'C', { volume: 'pv-c' }), claim('d', 'D', { volume: 'pv-d' }), claim('e', 'E', { volume: 'pv-gone' })],
      volumes: [pv('pv-c', { claim: 'c', uid: 'OLD' }), pv('pv-d', { phase: 'Available' })],
    });
    const v = checkClaims([rec('a'), rec('b'), rec('c'), rec('d'), rec('e'), rec('d', true)], w);
    expect(v.find((x) => x.subject === 'claim default/a')?.detail).toMatch(/phase Pending, not Bound/);
    expect(v.find((x) => x.subject === 'claim default/b')?.invariant).toBe('claim-lost');
    expect(v.find((x) => x.subject === 'claim default/c')?.detail).toMatch(/claimRef default\/c uid OLD, not this claim \(uid C\)/);
    expect(v.filter((x) => x.subject === 'claim default/d').map((x) => x.detail).join('\n')).toMatch(/Available, not Bound[\s\S]*deleted, yet still in the store/);
    expect(v.find((x) => x.subject === 'claim default/e')?.detail).toMatch(/pv-gone, which is not in the store/);
    expect(v.every((x) => !x.permanent)).toBe(true);
  });

  it('reports a volume Bound to a missing claim or to an earlier claim of the name, and a Released volume of policy Delete', () => {
    const w = world({
      claims: [claim('a', 'A2', { volume: 'pv-new' })],
      volumes: [pv('pv-old', { claim: 'a', uid: 'A1' }), pv('pv-x', { claim: 'x', uid: 'X' }), pv('pv-r', { phase: 'Released', claim: 'r' }), pv('pv-kept', { phase: 'Released', claim: 'k', policy: 'Retain' })],
    });
    const v = checkVolumes(w);
    expect(v.map((x) => `${x.invariant} ${x.subject}`).sort()).toEqual(['volume-bound volume pv-old', 'volume-bound volume pv-x', 'volume-released volume pv-r']);
  });
});

describe('files read from the pod', () => {
  const probe: StorageProbe = { pod: 'default/rs-1', marker: 'm-1\n', config: 'v2\n' };

  it('passes when the marker and the latest ConfigMap value are read back', () => {
    expect(checkMarker('m-1', probe)).toEqual([]);
    expect(checkConfigValue('v2', [], probe)).toEqual([]);
    expect(checkConfigValue('v1', ['v2'], probe)).toEqual([]);
    expect(checkMarker(undefined, undefined)).toEqual([]);
  });

  it('reports a changed or unreadable marker, a stale ConfigMap file, and no pod to read from', () => {
    expect(checkMarker('m-2', probe)[0].detail).toMatch(/holds "m-1", not "m-2"/);
    expect(checkMarker('m-1', { pod: 'default/rs-1', markerError: 'No such file' })[0].detail).toMatch(/No such file/);
    expect(checkConfigValue('v3', [], probe)[0].detail).toMatch(/holds "v2", not the ConfigMap's latest value "v3"/);
    expect(names(checkMarker('m-1', {}))).toEqual(['marker']);
    expect(names(checkConfigValue('v1', [], {}))).toEqual(['configmap']);
  });
});

describe('the node', () => {
  const root = '/data/node/pods';

  it('maps mount points to pod uids', () => {
    expect(mountPodUid(root, `${root}/U1/volumes/secret/s`)).toBe('U1');
    expect(mountPodUid(`${root}/`, `${root}/U1`)).toBe('U1');
    expect(mountPodUid(root, '/data/node/podsx/U1')).toBeUndefined();
  });

  it('passes when only live pods have volume directories and mounts, and reports those of gone pods', () => {
    const w = world({ pods: [pod('U1')] });
    expect(checkNodeVolumes(w, { podsRoot: root, volumeDirs: ['U1'], mounts: [`${root}/U1/volumes/secret/s`] })).toEqual([]);
    const v = checkNodeVolumes(w, { podsRoot: root, volumeDirs: ['U1', 'U2'], mounts: [`${root}/U3/volumes/empty-dir/m`] });
    expect(v.map((x) => `${x.invariant} ${x.subject}`)).toEqual(['volume-dir pod uid U2', 'volume-mount pod uid U3']);
    expect(names(checkNodeVolumes(w, { podsRoot: root, volumeDirsError: 'EACCES', mountsError: 'EPERM' }))).toEqual(['volume-probe', 'volume-probe']);
    expect(names(checkNodeVolumes(w, undefined))).toEqual(['volume-probe']);
  });

  it('after the cleanup, reports the claims, volumes, objects, directories and mounts left', () => {
    const mine = (x: KubeObject) => x.metadata.labels?.['chaos-storage'] === 't';
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'default', labels: { 'chaos-storage': 't' } } } as KubeObject;
    const w = world({ claims: [claim('a', 'A')], volumes: [pv('pv-a', { phase: 'Released', claim: 'a', uid: 'A' }), pv('other', { claim: 'o', uid: 'O' })], extra: { configmaps: [cm] } });
    const v = checkStorageCleaned(new Set(['A']), new Set(['U1']), mine, w, { podsRoot: root, volumeDirs: ['U1', 'U9'], mounts: [`${root}/U1/volumes/secret/s`] });
    expect(v.map((x) => x.subject)).toEqual([
      'persistentvolumeclaims default/a', 'configmaps default/cm', 'volume pv-a', 'pod uid U1', 'pod uid U1',
    ]);
    expect(checkStorageCleaned(new Set(['A']), new Set(['U1']), mine, world(), { podsRoot: root, volumeDirs: [], mounts: [] })).toEqual([]);
  });
});

describe('the plan and its manifests', () => {
  it('draws claims, one deleted with its pod, and timed steps in the window', () => {
    const p = planStorage(createRng(7), { tag: 't1', windowMs: 20_000 });
    expect(p.claims.length).toBeGreaterThanOrEqual(2);
    expect(p.claims.slice(1)).toContain(p.deletePair.claim);
    expect(p.deletePair.pod).toBe(podOfClaim(p.deletePair.claim));
    for (const at of [p.makeAtMs, p.configUpdate.atMs, p.deleteRsPodAtMs, p.deletePair.atMs]) expect(at).toBeLessThanOrEqual(20_000);
    expect(planStorage(createRng(7), { tag: 't1', windowMs: 20_000 })).toEqual(p);
  });

  it('writes manifests that mk validates, with the claim, an emptyDir, the Secret and the ConfigMap mounted', () => {
    const p = planStorage(createRng(3), { tag: 't1', windowMs: 20_000 });
    const docs = [
      claimManifest(p.claims[0], 't1'), configMapManifest(p.configMap, 't1', 'v1'), secretManifest(p.secret, 't1'),
      storageReplicaSetManifest(p, 't1'), claimPodManifest(p.claims[1], p.secret, 't1'),
    ].join('---\n');
    const objects = loadAll(docs).map((d) => validateManifest(d).object);
    expect(objects.map((o) => o.kind)).toEqual(['PersistentVolumeClaim', 'ConfigMap', 'Secret', 'ReplicaSet', 'Pod']);
    for (const o of objects) expect(o.metadata.labels?.['chaos-storage']).toBe('t1');
    const rs = objects[3] as unknown as { spec: { template: { metadata: { labels: Record<string, string> }; spec: Pod['spec'] } } };
    expect(rs.spec.template.metadata.labels['chaos-storage']).toBe('t1');
    const vols = rs.spec.template.spec.volumes ?? [];
    expect(vols.map((x) => Object.keys(x).filter((k) => k !== 'name')[0])).toEqual(['persistentVolumeClaim', 'emptyDir', 'secret', 'configMap']);
    expect(vols[0].persistentVolumeClaim?.claimName).toBe(p.claims[0]);
    expect(rs.spec.template.spec.containers[0].volumeMounts?.map((m) => m.mountPath)).toEqual(['/data', '/scratch', '/secret', '/config']);
  });
});
