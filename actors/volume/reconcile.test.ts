import {
  BIND_COMPLETED_ANNOTATION, BOUND_BY_CONTROLLER_ANNOTATION, PROVISIONED_BY_ANNOTATION, PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER, SELECTED_NODE_ANNOTATION,
  type PersistentVolume, type PersistentVolumeClaim,
} from '../../messages';
import { claim, storageClass, volume } from './fixtures';
import { MESSAGES, reclaimFailed, reconcileClaim, reconcileVolume, type ClaimInput } from './reconcile';

const now = new Date('2026-01-01T01:00:00Z');
const decide = (c: PersistentVolumeClaim, volumes: PersistentVolume[] = [], more: Partial<ClaimInput> = {}) =>
  reconcileClaim({ claim: c, volumes, classes: [], inUse: false, now, ...more });
const reasons = (d: { events: { reason: string; message: string }[] }) => d.events.map((e) => `${e.reason}: ${e.message}`);
const deleting = <T extends { metadata: object }>(o: T): T => ({ ...o, metadata: { ...o.metadata, deletionTimestamp: '2026-01-01T00:30:00Z' } });

describe('reconcileClaim: binding', () => {
  it('binds the best volume in two writes: the volume (claimRef, Bound), then the claim (volumeName, Bound)', () => {
    const d = decide(claim('c', '1Gi'), [volume('big', '5Gi'), volume('fits', '1Gi')]);
    expect(d.volume?.metadata.name).toBe('fits');
    expect(d.volume?.spec.claimRef).toEqual({ kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: 'default', name: 'c', uid: 'uid-c' });
    expect(d.volume?.status?.phase).toBe('Bound');
    expect(d.volume?.metadata.annotations?.[BOUND_BY_CONTROLLER_ANNOTATION]).toBe('yes');
    expect(d.claim?.spec.volumeName).toBe('fits');
    expect(d.claim?.metadata.annotations).toMatchObject({ [BIND_COMPLETED_ANNOTATION]: 'yes', [BOUND_BY_CONTROLLER_ANNOTATION]: 'yes' });
    expect(d.claim?.status).toEqual({ phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } });
    expect(d.claim?.metadata.finalizers).toEqual([PVC_PROTECTION_FINALIZER]);
    expect(d.events).toEqual([]);
  });

  it('finishes a binding half made (a crash after the volume was written): the claim takes the volume that names it', () => {
    const half = volume('v', '5Gi', { claimRef: { namespace: 'default', name: 'c', uid: 'uid-c' } });
    half.status = { phase: 'Bound', lastPhaseTransitionTime: '2026-01-01T00:59:00Z' };
    const d = decide(claim('c', '1Gi'), [volume('smaller', '1Gi'), half]);
    expect(d.claim?.spec.volumeName).toBe('v');
    expect(d.claim?.status?.phase).toBe('Bound');
    // The volume was already right: nothing to write there.
    expect(d.volume).toBeUndefined();
  });

  it('is idempotent: a bound pair decides nothing more', () => {
    const first = decide(claim('c', '1Gi'), [volume('v', '1Gi')]);
    const again = decide(first.claim!, [first.volume!]);
    expect(again).toEqual({ events: [] });
  });

  it('binds a claim that names its volume, or says why not', () => {
    const c = claim('c', '1Gi', { volumeName: 'v' });
    expect(decide(c, [volume('v', '1Gi')]).claim?.status?.phase).toBe('Bound');
    const small = decide(c, [volume('v', '100Mi'), volume('other', '1Gi')]);
    expect(small.claim?.status?.phase).toBe('Pending');
    expect(small.volume).toBeUndefined();
    expect(reasons(small)).toEqual([`FailedBinding: ${MESSAGES.cannotBind('v', 'requested PV is too small')}`]);
    const taken = decide(c, [volume('v', '1Gi', { claimRef: { namespace: 'default', name: 'x', uid: 'u' } })]);
    expect(reasons(taken)).toEqual(['FailedBinding: volume "v" already bound to a different claim.']);
    // The named volume does not exist (yet): Pending, quietly.
    expect(decide(c, [volume('other', '1Gi')])).toMatchObject({ events: [], claim: { status: { phase: 'Pending' } } });
  });
});

describe('reconcileClaim: waiting', () => {
  it("says why a claim waits, in Kubernetes' words", () => {
    expect(reasons(decide(claim('c', '1Gi')))).toEqual([`FailedBinding: ${MESSAGES.noClass}`]);
    expect(decide(claim('c', '1Gi')).events[0].type).toBe('Normal');
    expect(reasons(decide(claim('c', '1Gi', { storageClassName: 'gone' })))).toEqual(['ProvisioningFailed: storageclass.storage.k8s.io "gone" not found']);
    const ext = storageClass('ext', { provisioner: 'example.com/nfs' });
    expect(reasons(decide(claim('c', '1Gi', { storageClassName: 'ext' }), [], { classes: [ext] }))[0]).toMatch(/^ExternalProvisioning: Waiting for a volume to be created either by the external provisioner 'example.com\/nfs'/);
    const manual = storageClass('manual');
    expect(reasons(decide(claim('c', '1Gi', { storageClassName: 'manual' }), [], { classes: [manual] }))).toEqual(['ProvisioningFailed: no volume plugin matched name: kubernetes.io/no-provisioner']);
  });

  it('leaves a claim of a WaitForFirstConsumer class for its pod, unless a volume was pre-bound to it', () => {
    const wait = storageClass('local', { volumeBindingMode: 'WaitForFirstConsumer' });
    const c = claim('c', '1Gi', { storageClassName: 'local' });
    const d = decide(c, [volume('v', '1Gi', { storageClassName: 'local' })], { classes: [wait] });
    expect(d.volume).toBeUndefined();
    expect(d.claim?.status?.phase).toBe('Pending');
    expect(reasons(d)).toEqual(['WaitForFirstConsumer: waiting for first consumer to be created before binding']);
    const mine = volume('mine', '1Gi', { storageClassName: 'local', claimRef: { namespace: 'default', name: 'c' } });
    expect(decide(c, [mine], { classes: [wait] }).claim?.spec.volumeName).toBe('mine');
  });

  it('says a delayed claim the scheduler chose a node for waits for its provisioner', () => {
    const wait = storageClass('lp', { provisioner: 'mk.io/local-path', volumeBindingMode: 'WaitForFirstConsumer' });
    const c = claim('c', '1Gi', { storageClassName: 'lp' });
    c.metadata.annotations = { [SELECTED_NODE_ANNOTATION]: 'node-a' };
    const d = decide(c, [volume('v', '1Gi', { storageClassName: 'lp' })], { classes: [wait] });
    expect(d.volume).toBeUndefined();
    expect(reasons(d)[0]).toMatch(/^ExternalProvisioning: Waiting for a volume to be created either by the external provisioner 'mk.io\/local-path'/);
  });

  it('gives a claim without a class the default class (retroactively), never one that asked for ""', () => {
    const def = storageClass('standard', {}, true);
    expect(decide(claim('c', '1Gi'), [], { classes: [def] }).claim?.spec.storageClassName).toBe('standard');
    expect(decide(claim('c', '1Gi', { storageClassName: '' }), [volume('v', '1Gi')], { classes: [def] }).claim?.spec).toMatchObject({ storageClassName: '', volumeName: 'v' });
  });
});

describe('reconcileClaim: lost and protected', () => {
  const bound = (): { c: PersistentVolumeClaim; v: PersistentVolume } => {
    const d = decide(claim('c', '1Gi'), [volume('v', '1Gi')]);
    return { c: d.claim!, v: d.volume! };
  };
  it('goes Lost once its volume is gone, said once', () => {
    const { c } = bound();
    const d = decide(c, []);
    expect(d.claim?.status).toEqual({ phase: 'Lost' });
    expect(reasons(d)).toEqual([`ClaimLost: ${MESSAGES.lostVolume}`]);
    expect(decide(d.claim!, []).events).toEqual([]);
  });
  it('goes Lost when its volume was bound to another claim meanwhile', () => {
    const { c, v } = bound();
    const other = { ...v, spec: { ...v.spec, claimRef: { namespace: 'default', name: 'x', uid: 'ux' } } };
    const d = decide(c, [other]);
    expect(d.claim?.status?.phase).toBe('Lost');
    expect(reasons(d)).toEqual([`ClaimMisbound: ${MESSAGES.misbound}`]);
  });
  it('keeps its protection finalizer while a pod uses it, and drops it after', () => {
    const { c, v } = bound();
    const marked = deleting(c);
    expect(decide(marked, [v], { inUse: true })).toEqual({ events: [] });
    expect(decide(marked, [v], { inUse: false }).claim?.metadata.finalizers).toBeUndefined();
  });
});

describe('reconcileVolume', () => {
  const claimOf = (name: string, volumeName?: string): PersistentVolumeClaim => claim(name, '1Gi', volumeName ? { volumeName } : {});
  it('is Available while free, with its protection finalizer', () => {
    const d = reconcileVolume({ volume: { ...volume('v', '1Gi'), status: { phase: 'Pending' } }, claim: undefined, now });
    expect(d.volume?.status).toEqual({ phase: 'Available', lastPhaseTransitionTime: '2026-01-01T01:00:00Z' });
    expect(d.volume?.metadata.finalizers).toEqual([PV_PROTECTION_FINALIZER]);
    expect(reconcileVolume({ volume: d.volume!, claim: undefined, now: new Date() })).toEqual({ events: [] });
  });
  it('is Available while only reserved for a claim (no uid yet)', () => {
    const v = volume('v', '1Gi', { claimRef: { namespace: 'default', name: 'c' } });
    expect(reconcileVolume({ volume: { ...v, status: { phase: 'Pending' } }, claim: undefined, now }).volume?.status?.phase).toBe('Available');
  });
  it('is Bound while its claim exists, whether or not the claim has finished binding', () => {
    const v = volume('v', '1Gi', { claimRef: { namespace: 'default', name: 'c', uid: 'uid-c' } });
    expect(reconcileVolume({ volume: v, claim: claimOf('c'), now }).volume?.status?.phase).toBe('Bound');
    expect(reconcileVolume({ volume: v, claim: claimOf('c', 'v'), now }).volume?.status?.phase).toBe('Bound');
  });
  it('is Released once its claim is gone (or made again with another uid); Retain keeps it, Delete reclaims it', () => {
    const v = { ...volume('v', '1Gi', { claimRef: { namespace: 'default', name: 'c', uid: 'uid-c' } }), status: { phase: 'Bound' as const } };
    const retained = reconcileVolume({ volume: v, claim: undefined, now });
    expect(retained.volume?.status?.phase).toBe('Released');
    expect(retained.reclaim).toBeUndefined();
    const again = { ...claimOf('c'), metadata: { ...claimOf('c').metadata, uid: 'new' } };
    expect(reconcileVolume({ volume: v, claim: again, now }).volume?.status?.phase).toBe('Released');
    const del = { ...v, spec: { ...v.spec, persistentVolumeReclaimPolicy: 'Delete' } };
    expect(reconcileVolume({ volume: del, claim: undefined, now }).reclaim).toBe('delete');
  });
  it('is freed when its claim turned out bound to another volume: the controller binding goes, a user reservation stays', () => {
    const ref = { namespace: 'default', name: 'c', uid: 'uid-c' };
    const byController = volume('v', '1Gi', { claimRef: ref });
    byController.metadata.annotations = { [BOUND_BY_CONTROLLER_ANNOTATION]: 'yes' };
    const freed = reconcileVolume({ volume: byController, claim: claimOf('c', 'elsewhere'), now }).volume!;
    expect(freed.spec.claimRef).toBeUndefined();
    expect(freed.metadata.annotations).toBeUndefined();
    expect(freed.status?.phase).toBe('Available');
    const byUser = reconcileVolume({ volume: volume('v', '1Gi', { claimRef: ref }), claim: claimOf('c', 'elsewhere'), now }).volume!;
    expect(byUser.spec.claimRef).toEqual({ namespace: 'default', name: 'c' });
  });
  it('releases a provisioned volume whose claim got another volume or went before binding, and reclaims it by policy', () => {
    const provisioned = (policy: 'Delete' | 'Retain'): PersistentVolume => {
      const v = volume('v', '1Gi', { claimRef: { namespace: 'default', name: 'c', uid: 'uid-c' }, persistentVolumeReclaimPolicy: policy });
      v.metadata.annotations = { [PROVISIONED_BY_ANNOTATION]: 'mk.io/local-path' };
      return v;
    };
    for (const claim of [claimOf('c', 'elsewhere'), undefined]) {
      const del = reconcileVolume({ volume: provisioned('Delete'), claim, now });
      expect(del.volume?.status?.phase).toBe('Released');
      expect(del.volume?.spec.claimRef?.uid).toBe('uid-c');
      expect(del.reclaim).toBe('delete');
      const kept = reconcileVolume({ volume: provisioned('Retain'), claim, now });
      expect(kept.volume?.status?.phase).toBe('Released');
      expect(kept.reclaim).toBeUndefined();
      // Released stays Released: no pass reserves it again.
      expect(reconcileVolume({ volume: kept.volume!, claim, now }).volume).toBeUndefined();
    }
  });
  it('keeps its protection finalizer while Bound even when deleted, and drops it once not Bound', () => {
    const ref = { namespace: 'default', name: 'c', uid: 'uid-c' };
    const v = deleting({ ...volume('v', '1Gi', { claimRef: ref }), status: { phase: 'Bound' as const } });
    v.metadata.finalizers = [PV_PROTECTION_FINALIZER];
    expect(reconcileVolume({ volume: v, claim: claimOf('c', 'v'), now }).volume).toBeUndefined();
    const released = reconcileVolume({ volume: v, claim: undefined, now }).volume!;
    expect(released.status?.phase).toBe('Released');
    expect(released.metadata.finalizers).toBeUndefined();
    // Already being deleted: nothing more to reclaim.
    expect(reconcileVolume({ volume: { ...v, spec: { ...v.spec, persistentVolumeReclaimPolicy: 'Delete' } }, claim: undefined, now }).reclaim).toBeUndefined();
  });
  it('reclaimFailed leaves the volume Failed with the reason, and an event', () => {
    const f = reclaimFailed(volume('v', '1Gi'), 'disk busy', now);
    expect(f.volume.status).toMatchObject({ phase: 'Failed', reason: 'VolumeFailedDelete', message: 'disk busy' });
    expect(f.event).toEqual({ type: 'Warning', reason: 'VolumeFailedDelete', message: 'disk busy' });
  });
});
