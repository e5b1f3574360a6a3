import type { Pod } from '../../messages';
import { notReadyStatus } from './pod-readiness';

const pod = (ready: 'True' | 'False' | undefined): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] },
  status: {
    phase: 'Running',
    conditions: [
      { type: 'PodScheduled', status: 'True', lastTransitionTime: 't0' },
      ...(ready ? [{ type: 'Ready' as const, status: ready, lastTransitionTime: 't0' }] : []),
    ],
    containerStatuses: [{ name: 'c', image: 'busybox', imageID: '', ready: true, restartCount: 0, state: { running: {} }, lastState: {} }],
  },
});

describe('marking a pod not ready', () => {
  it('sets Ready False with the reason and time, and no container ready', () => {
    const s = notReadyStatus(pod('True'), 't1')!;
    expect(s.conditions).toEqual([
      { type: 'PodScheduled', status: 'True', lastTransitionTime: 't0' },
      { type: 'Ready', status: 'False', reason: 'NodeNotReady', message: 'Node is not ready', lastTransitionTime: 't1' },
    ]);
    expect(s.containerStatuses?.[0].ready).toBe(false);
    expect(s.phase).toBe('Running');
  });

  it('leaves a pod that is not ready, or never was, as it is', () => {
    expect(notReadyStatus(pod('False'), 't1')).toBeNull();
    expect(notReadyStatus(pod(undefined), 't1')).toBeNull();
  });
});
