import type { KubeObject } from '../messages';
import { readyToRemove } from './deletion';
import { namespaceModule } from './namespace/kind';
import { podModule } from './pod/kind';

const obj = (meta: Partial<KubeObject['metadata']>): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', ...meta } });
const marked = { deletionTimestamp: '2026-01-01T00:00:00Z' };

describe('readyToRemove', () => {
  it('is true only for a marked object that nothing holds any more', () => {
    expect(readyToRemove(podModule, obj({}))).toBe(false);
    expect(readyToRemove(podModule, obj({ ...marked }))).toBe(true);
    expect(readyToRemove(podModule, obj({ ...marked, deletionGracePeriodSeconds: 0, finalizers: [] }))).toBe(true);
    // A graceful stop still to come, or finalizers left.
    expect(readyToRemove(podModule, obj({ ...marked, deletionGracePeriodSeconds: 30 }))).toBe(false);
    expect(readyToRemove(podModule, obj({ ...marked, deletionGracePeriodSeconds: 0, finalizers: ['foregroundDeletion'] }))).toBe(false);
  });
  it('leaves kinds whose controller finishes their deletions to that controller', () => {
    expect(readyToRemove(namespaceModule, { ...obj({ ...marked, deletionGracePeriodSeconds: 0 }), kind: 'Namespace' })).toBe(false);
  });
});
