import type { DaemonSet } from '../messages';
import { daemonSetRolloutState, rolloutTarget } from './rollout';

const ds = (status: DaemonSet['status'], generation = 2, type: 'RollingUpdate' | 'OnDelete' = 'RollingUpdate'): DaemonSet => ({
  apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', generation },
  spec: { selector: { matchLabels: { app: 'agent' } }, template: { spec: { containers: [{ name: 'c', image: 'x' }] } }, updateStrategy: { type } },
  status,
});
const counts = (updated: number, available: number) => ({
  observedGeneration: 2, desiredNumberScheduled: 3, currentNumberScheduled: 3, numberMisscheduled: 0, numberReady: available,
  numberAvailable: available, updatedNumberScheduled: updated,
});

describe('daemonSetRolloutState', () => {
  it("says kubectl's messages at each stage", () => {
    expect(daemonSetRolloutState(ds({ ...counts(0, 0), observedGeneration: 1 })).message).toBe('Waiting for daemon set spec update to be observed...');
    expect(daemonSetRolloutState(ds(counts(1, 3))).message)
      .toBe('Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been updated...');
    expect(daemonSetRolloutState(ds(counts(3, 2))).message)
      .toBe('Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available...');
    expect(daemonSetRolloutState(ds(counts(3, 3)))).toEqual({ done: true, failed: false, message: 'daemon set "agent" successfully rolled out' });
  });

  it('has no status to wait on with OnDelete', () => {
    expect(daemonSetRolloutState(ds(counts(0, 3), 2, 'OnDelete')))
      .toEqual({ done: false, failed: true, message: 'rollout status is only available for RollingUpdate strategy type' });
  });
});

describe('rolloutTarget', () => {
  it('takes one deployment or daemon set, and nothing else', () => {
    expect(rolloutTarget(['ds/agent'], undefined)).toEqual({ name: 'agent', namespace: 'default', plural: 'daemonsets' });
    expect(rolloutTarget(['daemonset', 'agent'], 'kube-system')).toEqual({ name: 'agent', namespace: 'kube-system', plural: 'daemonsets' });
    expect(rolloutTarget(['deploy/web'], undefined)).toEqual({ name: 'web', namespace: 'default', plural: 'deployments' });
    expect(() => rolloutTarget(['rs/web'], undefined)).toThrow('replicasets have no rollout in mk: only deployments, daemonsets and statefulsets do');
    expect(() => rolloutTarget(['ds/a', 'ds/b'], undefined)).toThrow('give exactly one daemonset: ds/NAME');
  });
});
