import type { Pod } from '../../messages';
import { observePodStart, podStartDuration, podsStarted } from './metrics';

const pod = (uid: string, created = '2026-01-01T00:00:00Z'): Pod =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: uid, namespace: 'default', uid, creationTimestamp: created }, spec: { containers: [] } }) as unknown as Pod;

async function count(): Promise<number> {
  return (await podStartDuration.get()).values.find((v) => v.metricName === 'mk_pod_start_duration_seconds_count')?.value ?? 0;
}

describe('observePodStart', () => {
  it('counts a pod once, when its phase first becomes Running, with the time since creation', async () => {
    const created = Date.parse('2026-01-01T00:00:00Z');
    const before = await count();
    expect(observePodStart(pod('a'), 'Pending', 'Pending', created + 1_000)).toBe(false);
    expect(observePodStart(pod('a'), 'Pending', 'Running', created + 2_500)).toBe(true);
    // Later status writes, and a flip back and forth, do not count it again.
    expect(observePodStart(pod('a'), 'Running', 'Running', created + 9_000)).toBe(false);
    expect(observePodStart(pod('a'), 'Pending', 'Running', created + 9_000)).toBe(false);
    // A pod whose stored status was Running already (a control plane that started since) is not counted.
    expect(observePodStart(pod('b'), 'Running', 'Running', created + 9_000)).toBe(false);
    expect(observePodStart(pod('c', 'not a time'), undefined, 'Running')).toBe(false);
    expect(await count()).toBe(before + 1);
    const sum = (await podStartDuration.get()).values.find((v) => v.metricName === 'mk_pod_start_duration_seconds_sum')?.value;
    expect(sum).toBeCloseTo(2.5);
    expect((await podsStarted.get()).values[0].value).toBe(1);
  });
});
