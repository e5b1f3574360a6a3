import type { Node, NodeCondition } from '../../messages';
import { reconcileNode } from './reconcile';

const NOW = 1_000_000_000;
const at = (ms: number): string => new Date(ms).toISOString();
const opts = { gracePeriodMs: 40_000 };
const node = (beatAgoMs: number, cidr?: string, status: NodeCondition['status'] = 'True', extra: Partial<Node['spec']> = {}): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { ...(cidr ? { podCIDR: cidr } : {}), ...extra },
  status: { conditions: [
    { type: 'MemoryPressure', status: status === 'Unknown' ? 'Unknown' : 'False', lastHeartbeatTime: at(NOW - beatAgoMs), lastTransitionTime: at(0) },
    { type: 'Ready', status, lastHeartbeatTime: at(NOW - beatAgoMs), lastTransitionTime: at(0) },
  ] },
});

describe('node reconcile', () => {
  it('asks for a pod CIDR while the node has none', () => {
    expect(reconcileNode(node(0), NOW, opts).actions[0]).toEqual({ type: 'need-cidr' });
    expect(reconcileNode(node(0, '10.244.1.0/24'), NOW, opts).actions).toEqual([]);
  });

  it('requeues until the heartbeat goes stale, then marks every condition Unknown and taints the node unreachable', () => {
    const fresh = reconcileNode(node(1000, '10.244.1.0/24'), NOW, opts);
    expect(fresh.actions).toEqual([]);
    expect(fresh.requeueAfterMs).toBe(39_100);
    const stale = reconcileNode(node(41_000, '10.244.1.0/24'), NOW, opts);
    const mark = stale.actions.find((a) => a.type === 'mark-unknown');
    expect(mark).toBeDefined();
    if (mark?.type !== 'mark-unknown') return;
    expect(mark.conditions.map((c) => `${c.type}=${c.status}:${c.reason}`)).toEqual(['MemoryPressure=Unknown:NodeStatusUnknown', 'Ready=Unknown:NodeStatusUnknown']);
    expect(mark.conditions[1].lastTransitionTime).toBe(at(NOW));
    expect(stale.actions).toContainEqual({
      type: 'set-taints',
      taints: [
        { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: at(NOW) },
      ],
    });
    expect(stale.actions).toContainEqual({ type: 'event', eventType: 'Normal', reason: 'NodeNotReady', message: 'Node n1 status is now: NodeNotReady' });
  });

  it('gives every node a full grace period after the control plane starts', () => {
    const n = node(60_000, '10.244.1.0/24');
    const fresh = reconcileNode(n, NOW, { ...opts, startedAt: NOW - 1000 });
    expect(fresh.actions).toEqual([]);
    expect(fresh.requeueAfterMs).toBe(39_100);
    expect(reconcileNode(n, NOW, { ...opts, startedAt: NOW - 40_000 }).actions.some((a) => a.type === 'mark-unknown')).toBe(true);
  });

  it('honours a configured grace period', () => {
    expect(reconcileNode(node(6000, '10.244.1.0/24'), NOW, { gracePeriodMs: 5000 }).actions.some((a) => a.type === 'mark-unknown')).toBe(true);
    expect(reconcileNode(node(6000, '10.244.1.0/24'), NOW, { gracePeriodMs: 7000 }).requeueAfterMs).toBe(1100);
  });

  it('keeps an Unknown node as it is once tainted, with the first timeAdded', () => {
    const taints = [
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' as const },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' as const, timeAdded: at(NOW - 50_000) },
    ];
    expect(reconcileNode(node(99_000, '10.244.1.0/24', 'Unknown', { taints }), NOW, opts).actions).toEqual([]);
  });

  it('taints a node reporting Ready=False not-ready, and untaints it once Ready, keeping users\' taints', () => {
    const user = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' as const };
    const r = reconcileNode(node(1000, '10.244.1.0/24', 'False', { taints: [user] }), NOW, opts);
    expect(r.actions).toContainEqual({
      type: 'set-taints',
      taints: [user, { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: at(NOW) }],
    });
    const tainted = r.actions.find((a) => a.type === 'set-taints');
    if (tainted?.type !== 'set-taints') throw new Error('no taints');
    const back = reconcileNode(node(1000, '10.244.1.0/24', 'True', { taints: tainted.taints }), NOW, opts);
    expect(back.actions).toEqual([
      { type: 'set-taints', taints: [user] },
      { type: 'event', eventType: 'Normal', reason: 'NodeReady', message: 'Node n1 status is now: NodeReady' },
    ]);
  });

  it('taints a cordoned node unschedulable:NoSchedule and a node under pressure by condition', () => {
    const n = node(1000, '10.244.1.0/24', 'True', { unschedulable: true });
    n.status!.conditions![0].status = 'True';
    const r = reconcileNode(n, NOW, opts);
    expect(r.actions).toEqual([{
      type: 'set-taints',
      taints: [{ key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }],
    }]);
  });
});
