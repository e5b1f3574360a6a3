import type { StatefulSet } from '../messages';
import { deploymentTarget, rolloutTarget, statefulSetRolloutState } from './rollout';

const sts = (status: StatefulSet['status'], strategy: StatefulSet['spec']['updateStrategy'] = { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }): StatefulSet => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web', generation: 2 },
  spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [{ name: 'c', image: 'x' }] } }, updateStrategy: strategy },
  status,
});
const counts = (ready: number, updated: number, extra: Partial<NonNullable<StatefulSet['status']>> = {}) => ({
  observedGeneration: 2, replicas: 3, readyReplicas: ready, updatedReplicas: updated, currentReplicas: 3 - updated,
  currentRevision: 'old', updateRevision: 'new', ...extra,
});

describe('statefulSetRolloutState', () => {
  it("says kubectl's messages at each stage of a rolling update with a partition", () => {
    expect(statefulSetRolloutState(sts({ ...counts(3, 0), observedGeneration: 1 })).message).toBe('Waiting for statefulset spec update to be observed...');
    expect(statefulSetRolloutState(sts(counts(1, 0))).message).toBe('Waiting for 2 pods to be ready...');
    expect(statefulSetRolloutState(sts(counts(3, 1))).message).toBe('Waiting for partitioned roll out to finish: 1 out of 3 new pods have been updated...');
    expect(statefulSetRolloutState(sts(counts(3, 3)))).toEqual({ done: true, failed: false, message: 'partitioned roll out complete: 3 new pods have been updated...' });
    const partitioned = sts(counts(3, 1), { type: 'RollingUpdate', rollingUpdate: { partition: 2 } });
    expect(statefulSetRolloutState(partitioned)).toEqual({ done: true, failed: false, message: 'partitioned roll out complete: 1 new pods have been updated...' });
  });

  it('without a rollingUpdate, waits for the current revision to become the update revision', () => {
    expect(statefulSetRolloutState(sts(counts(3, 2), { type: 'RollingUpdate' })).message)
      .toBe('waiting for statefulset rolling update to complete 2 pods at revision new...');
    expect(statefulSetRolloutState(sts(counts(3, 3, { currentRevision: 'new', currentReplicas: 3 }), { type: 'RollingUpdate' })))
      .toEqual({ done: true, failed: false, message: 'statefulset rolling update complete 3 pods at revision new...' });
  });

  it('has no status to wait on with OnDelete', () => {
    expect(statefulSetRolloutState(sts(counts(3, 0), { type: 'OnDelete' })))
      .toEqual({ done: false, failed: true, message: 'rollout status is only available for RollingUpdate strategy type' });
  });
});

describe('stateful set targets', () => {
  it('takes sts for status, restart, set image, history and undo, and refuses it for pause and resume as kubectl does', () => {
    expect(rolloutTarget(['sts/web'], undefined)).toEqual({ name: 'web', namespace: 'default', plural: 'statefulsets' });
    expect(rolloutTarget(['statefulset', 'db'], 'prod')).toEqual({ name: 'db', namespace: 'prod', plural: 'statefulsets' });
    expect(() => rolloutTarget(['sts/a', 'sts/b'], undefined)).toThrow('give exactly one statefulset: sts/NAME');
    expect(() => deploymentTarget(['sts/web'], undefined, 'pausing')).toThrow('statefulsets.apps "web" pausing is not supported');
    expect(() => deploymentTarget(['ds/x'], undefined, 'resuming')).toThrow('daemonsets.apps "x" resuming is not supported');
  });
});
