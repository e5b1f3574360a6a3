import type { KubeObject, Node, Taint } from '../../messages';
import { nodeModule } from './kind';

const node = (taints?: Taint[], podCIDR = '10.244.1.0/24'): KubeObject => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { podCIDR, ...(taints ? { taints } : {}) },
}) as unknown as KubeObject;
const taintsOf = (o: KubeObject): Taint[] | undefined => (o as unknown as Node).spec?.taints;
const unreachable: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' };

describe('node admission', () => {
  it('stamps timeAdded on a new NoExecute taint and keeps it on later updates', () => {
    const created = nodeModule.defaults!(node([{ key: 'k', effect: 'NoExecute' }, { key: 'n', effect: 'NoSchedule' }]));
    const stamped = taintsOf(created)!;
    expect(stamped[0].timeAdded).toEqual(expect.any(String));
    expect(stamped[1].timeAdded).toBeUndefined();
    const again = nodeModule.admitUpdate!(created, nodeModule.defaults!(node([{ key: 'k', effect: 'NoExecute' }, { key: 'n', effect: 'NoSchedule' }])));
    expect(taintsOf(again)).toEqual(stamped);
  });

  it('keeps the control plane\'s taints whatever a manifest says, and takes the rest from it', () => {
    const existing = node([unreachable, { key: 'user', effect: 'NoSchedule' }]);
    // A writer that read the node before it was tainted sends no unreachable taint: it stays.
    const stale = nodeModule.admitUpdate!(existing, node([{ key: 'user', effect: 'NoSchedule' }, { key: 'more', value: 'v', effect: 'NoSchedule' }]));
    expect(taintsOf(stale)).toEqual([unreachable, { key: 'user', effect: 'NoSchedule' }, { key: 'more', value: 'v', effect: 'NoSchedule' }]);
    // Nor can a manifest add one.
    const added = nodeModule.admitUpdate!(node(), node([{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }]));
    expect(taintsOf(added)).toBeUndefined();
    const removed = nodeModule.admitUpdate!(existing, node([]));
    expect(taintsOf(removed)).toEqual([unreachable]);
  });

  it('refuses a change of pod CIDR', () => {
    expect(() => nodeModule.admitUpdate!(node(), node(undefined, '10.244.9.0/24'))).toThrow(/cannot change/);
  });
});
