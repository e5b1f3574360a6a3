import { findBestVolume, isVolumeBoundToClaim, volumeFitError } from './binder';
import { claim, volume } from './fixtures';

const names = (c: ReturnType<typeof claim>, vs: ReturnType<typeof volume>[]) => findBestVolume(c, vs)?.metadata.name;

describe('findBestVolume', () => {
  it('chooses the smallest free volume that is large enough (by name among equals)', () => {
    const vs = [volume('big', '10Gi'), volume('small', '500Mi'), volume('mid-b', '2Gi'), volume('mid-a', '2Gi')];
    expect(names(claim('c', '1Gi'), vs)).toBe('mid-a');
    expect(names(claim('c', '100Mi'), vs)).toBe('small');
    expect(names(claim('c', '20Gi'), vs)).toBeUndefined();
  });
  it('matches classes exactly: "" (or none) only volumes without a class', () => {
    const vs = [volume('plain', '1Gi'), volume('fast', '1Gi', { storageClassName: 'fast' })];
    expect(names(claim('c', '1Gi', { storageClassName: 'fast' }), vs)).toBe('fast');
    expect(names(claim('c', '1Gi', { storageClassName: '' }), vs)).toBe('plain');
    expect(names(claim('c', '1Gi'), vs)).toBe('plain');
    expect(names(claim('c', '1Gi', { storageClassName: 'slow' }), vs)).toBeUndefined();
  });
  it("wants every access mode of the claim among the volume's", () => {
    const vs = [volume('rwo', '1Gi'), volume('many', '5Gi', { accessModes: ['ReadWriteOnce', 'ReadWriteMany'] })];
    expect(names(claim('c', '1Gi', { accessModes: ['ReadWriteMany'] }), vs)).toBe('many');
    expect(names(claim('c', '1Gi', { accessModes: ['ReadWriteMany', 'ReadOnlyMany'] }), vs)).toBeUndefined();
  });
  it('honours the selector', () => {
    const vs = [volume('a', '1Gi', {}, { tier: 'bronze' }), volume('b', '2Gi', {}, { tier: 'gold' })];
    expect(names(claim('c', '1Gi', { selector: { matchLabels: { tier: 'gold' } } }), vs)).toBe('b');
    expect(names(claim('c', '1Gi', { selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['silver'] }] } }), vs)).toBeUndefined();
  });
  it('never chooses a volume bound or reserved for another claim, or being deleted', () => {
    const taken = volume('taken', '1Gi', { claimRef: { namespace: 'default', name: 'other', uid: 'u' } });
    const reserved = volume('reserved', '1Gi', { claimRef: { namespace: 'default', name: 'other' } });
    const going = { ...volume('going', '1Gi'), metadata: { ...volume('going', '1Gi').metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
    expect(names(claim('c', '1Gi'), [taken, reserved, going])).toBeUndefined();
  });
  it('chooses a volume pre-bound to the claim before a smaller free one, whatever its class or labels', () => {
    const mine = volume('mine', '5Gi', { storageClassName: 'other', claimRef: { namespace: 'default', name: 'c' } });
    expect(names(claim('c', '1Gi'), [volume('free', '1Gi'), mine])).toBe('mine');
    // Too small, or reserved for an earlier claim of the same name (another uid): not chosen.
    expect(names(claim('c', '10Gi'), [mine])).toBeUndefined();
    const older = volume('older', '1Gi', { claimRef: { namespace: 'default', name: 'c', uid: 'uid-gone' } });
    expect(names(claim('c', '1Gi'), [older])).toBeUndefined();
  });
});

describe('volumeFitError and isVolumeBoundToClaim', () => {
  it("says why a named volume cannot be bound, in Kubernetes' words", () => {
    expect(volumeFitError(volume('v', '1Gi'), claim('c', '2Gi'))).toBe('requested PV is too small');
    expect(volumeFitError(volume('v', '1Gi', { storageClassName: 'x' }), claim('c', '1Gi'))).toBe('storageClassName does not match');
    expect(volumeFitError(volume('v', '1Gi'), claim('c', '1Gi', { accessModes: ['ReadOnlyMany'] }))).toMatch(/^incompatible accessMode/);
    expect(volumeFitError(volume('v', '1Gi'), claim('c', '1Gi'))).toBeUndefined();
  });
  it('compares namespace, name and, once set, uid', () => {
    const c = claim('c', '1Gi');
    expect(isVolumeBoundToClaim(volume('v', '1Gi', { claimRef: { namespace: 'default', name: 'c' } }), c)).toBe(true);
    expect(isVolumeBoundToClaim(volume('v', '1Gi', { claimRef: { namespace: 'default', name: 'c', uid: 'uid-c' } }), c)).toBe(true);
    expect(isVolumeBoundToClaim(volume('v', '1Gi', { claimRef: { namespace: 'other', name: 'c' } }), c)).toBe(false);
    expect(isVolumeBoundToClaim(volume('v', '1Gi', { claimRef: { namespace: 'default', name: 'c', uid: 'x' } }), c)).toBe(false);
    expect(isVolumeBoundToClaim(volume('v', '1Gi'), c)).toBe(false);
  });
});
