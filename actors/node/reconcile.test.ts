import type { Node } from '../../messages';
import { nextFreeCidr, reconcileNode } from './reconcile';

const node = (beatAgoMs: number, cidr?: string, status: 'True' | 'Unknown' = 'True'): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: cidr ? { podCIDR: cidr } : {},
  status: { conditions: [{ type: 'Ready', status, lastHeartbeatTime: new Date(1_000_000 - beatAgoMs).toISOString() }] },
});

describe('node reconcile', () => {
  it('assigns the lowest free /24', () => {
    expect(nextFreeCidr('10.244.0.0/16', ['10.244.1.0/24', '10.244.3.0/24'])).toBe('10.244.2.0/24');
    expect(reconcileNode(node(0), ['10.244.1.0/24'], 1_000_000).actions[0]).toEqual({ type: 'assign-cidr', cidr: '10.244.2.0/24' });
  });
  it('requeues until the heartbeat goes stale, then marks Unknown', () => {
    const fresh = reconcileNode(node(1000, '10.244.1.0/24'), [], 1_000_000);
    expect(fresh.actions).toEqual([]);
    expect(fresh.requeueAfterMs).toBe(39_100);
    const stale = reconcileNode(node(41_000, '10.244.1.0/24'), [], 1_000_000);
    expect(stale.actions).toMatchObject([{ type: 'mark-unknown', condition: { status: 'Unknown', reason: 'NodeStatusUnknown' } }]);
    expect(reconcileNode(node(99_000, '10.244.1.0/24', 'Unknown'), [], 1_000_000).actions).toEqual([]);
  });
  it('refuses when the cluster CIDR is full', () => {
    const all = Array.from({ length: 255 }, (_, i) => `10.244.${i + 1}.0/24`);
    expect(() => nextFreeCidr('10.244.0.0/16', all)).toThrow(/exhausted/);
  });
});
