import type { Pod, Taint, Toleration } from '../../messages';
import { evictionTime } from './eviction';
import { tolerates, withSystemTaints } from './taints';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const unreachable = (addedAgoS: number): Taint => ({ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: new Date(NOW - addedAgoS * 1000).toISOString() });
const pod = (tolerations?: Toleration[]): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }], tolerations } });
const tol = (seconds?: number): Toleration => ({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });

describe('taint manager timing', () => {
  it('evicts at once a pod that does not tolerate a NoExecute taint', () => {
    expect(evictionTime(pod(), [unreachable(0)], NOW)).toBe(NOW);
  });

  it('evicts after tolerationSeconds counted from the taint\'s timeAdded (a restart recomputes the same time)', () => {
    expect(evictionTime(pod([tol(300)]), [unreachable(100)], NOW)).toBe(NOW + 200_000);
    expect(evictionTime(pod([tol(300)]), [unreachable(100)], NOW + 150_000)).toBe(NOW + 200_000);
    expect(evictionTime(pod([tol(300)]), [unreachable(400)], NOW)).toBeLessThan(NOW);
    expect(evictionTime(pod([tol(0)]), [unreachable(0)], NOW)).toBe(NOW);
  });

  it('keeps a pod forever when its only matching toleration has no tolerationSeconds; the shortest bound wins otherwise', () => {
    expect(evictionTime(pod([tol()]), [unreachable(1000)], NOW)).toBeNull();
    expect(evictionTime(pod([tol(), tol(60)]), [unreachable(0)], NOW)).toBe(NOW + 60_000);
    expect(evictionTime(pod([{ operator: 'Exists' }]), [unreachable(1000)], NOW)).toBeNull();
  });

  it('ignores NoSchedule taints and counts from now when timeAdded is missing', () => {
    expect(evictionTime(pod(), [{ key: 'k', effect: 'NoSchedule' }], NOW)).toBeNull();
    expect(evictionTime(pod([tol(30)]), [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }], NOW)).toBe(NOW + 30_000);
  });

  it('takes the earliest of several tainted deadlines', () => {
    const notReady: Taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: new Date(NOW).toISOString() };
    const both = pod([tol(300), { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 }]);
    expect(evictionTime(both, [unreachable(0), notReady], NOW)).toBe(NOW + 10_000);
  });
});

describe('tolerations and managed taints', () => {
  it('matches like Kubernetes: Equal compares values, Exists any value, an empty effect any effect', () => {
    const t: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
    expect(tolerates({ key: 'dedicated', value: 'gpu' }, t)).toBe(true);
    expect(tolerates({ key: 'dedicated', operator: 'Equal', value: 'cpu' }, t)).toBe(false);
    expect(tolerates({ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }, t)).toBe(true);
    expect(tolerates({ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, t)).toBe(false);
    expect(tolerates({ operator: 'Exists' }, t)).toBe(true);
    expect(tolerates({ key: 'other', operator: 'Exists' }, t)).toBe(false);
  });

  it('stamps timeAdded on new NoExecute taints only and keeps the first one', () => {
    const user: Taint = { key: 'maintenance', effect: 'NoExecute', timeAdded: 'earlier' };
    const out = withSystemTaints([user], [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }], 'now');
    expect(out).toEqual([user, { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: 'now' }]);
    expect(withSystemTaints(out, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }], 'later')).toEqual(out);
    expect(withSystemTaints(out, [], 'later')).toEqual([user]);
  });
});
