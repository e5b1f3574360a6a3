import type { Pod } from '../../messages';
import { info, makeNode, makeNodeInfo, makePod } from './plugins/fixtures';
import type { ClusterView } from './plugins/inter-pod-affinity';
import type { NodeInfo } from './plugins/types';
import { feasibleNodesToFind, schedule } from './schedule';

function view(nodes: NodeInfo[]): ClusterView {
  const withAffinity = nodes.flatMap((n) => [...n.pods.values()]).filter((p) => p.hasAffinity);
  return { nodes, byName: new Map(nodes.map((n) => [n.name, n])), withAffinity };
}
const decide = (p: Pod, nodes: NodeInfo[], opts = {}) => schedule(info(p), view(nodes), opts);

describe('schedule', () => {
  it('spreads: the least allocated node wins', () => {
    const nodes = [makeNodeInfo(makeNode('n1'), [makePod('x', { cpu: '1' })]), makeNodeInfo(makeNode('n2'))];
    expect(decide(makePod('a', { cpu: '100m' }), nodes)).toEqual({ node: 'n2' });
  });

  it('breaks ties by name', () => {
    expect(decide(makePod('a'), [makeNodeInfo(makeNode('b')), makeNodeInfo(makeNode('a'))])).toEqual({ node: 'a' });
  });

  it('avoids PreferNoSchedule taints it does not tolerate when it can', () => {
    const nodes = [makeNodeInfo(makeNode('n1', { taints: [{ key: 'spot', effect: 'PreferNoSchedule' }] })), makeNodeInfo(makeNode('n2'), [makePod('x', { cpu: '1' })])];
    expect(decide(makePod('a'), nodes)).toEqual({ node: 'n2' });
  });

  it('follows preferred node affinity over a small difference in load', () => {
    const nodes = [makeNodeInfo(makeNode('n1')), makeNodeInfo(makeNode('n2', { labels: { disk: 'ssd' } }), [makePod('x', { cpu: '200m' })])];
    const p = makePod('a', {}, { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } }] } } });
    expect(decide(p, nodes)).toEqual({ node: 'n2' });
  });

  it('round robin takes the feasible nodes in turn by name', () => {
    const nodes = [makeNodeInfo(makeNode('c')), makeNodeInfo(makeNode('a')), makeNodeInfo(makeNode('b'), [makePod('x', { cpu: '2' })])];
    const p = makePod('p', { cpu: '1' });
    expect(decide(p, nodes, { policy: 'round-robin' })).toEqual({ node: 'a' });
    expect(decide(p, nodes, { policy: 'round-robin', lastNode: 'a' })).toEqual({ node: 'c' });
    expect(decide(p, nodes, { policy: 'round-robin', lastNode: 'c' })).toEqual({ node: 'a' });
  });

  it("says why nothing fits in Kubernetes' words, the first failing filter per node", () => {
    const nodes = [
      makeNodeInfo(makeNode('n1', { allocatable: { cpu: '1', memory: '1Gi' } })),
      makeNodeInfo(makeNode('n2', { allocatable: { cpu: '1', memory: '1Gi' } })),
      makeNodeInfo(makeNode('n3', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] })),
      // Cordoned and too small: only the first filter speaks.
      makeNodeInfo(makeNode('n4', { unschedulable: true, allocatable: { cpu: '1' } })),
      makeNodeInfo(makeNode('n5', { ready: 'False' })),
    ];
    const d = decide(makePod('a', { cpu: '1500m' }), nodes);
    expect(d).toEqual({
      unschedulable: '0/5 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, '
        + '1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable, 2 Insufficient cpu. preemption: not eligible.',
      rejectedBy: expect.arrayContaining(['NodeResourcesFit', 'TaintToleration', 'NodeUnschedulable']),
    });
  });

  it('honours nodeSelector, affinity, anti-affinity and host ports together', () => {
    const web = makePod('web-1', {}, {}, { app: 'web' });
    web.spec.containers[0].ports = [{ containerPort: 80, hostPort: 80 }];
    const nodes = [
      makeNodeInfo(makeNode('n1', { labels: { disk: 'ssd' } }), [{ ...web, spec: { ...web.spec, nodeName: 'n1' } }]),
      makeNodeInfo(makeNode('n2', { labels: { disk: 'ssd' } })),
      makeNodeInfo(makeNode('n3')),
    ];
    const p = makePod('web-2', {}, {
      nodeSelector: { disk: 'ssd' },
      affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } },
    }, { app: 'web' });
    expect(decide(p, nodes)).toEqual({ node: 'n2' });
    const ported = makePod('web-3', {}, { nodeSelector: { disk: 'ssd' } });
    ported.spec.containers[0].ports = [{ containerPort: 80, hostPort: 80 }];
    expect(decide(ported, nodes.slice(0, 1))).toEqual({
      unschedulable: "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. preemption: not eligible.",
      rejectedBy: ['NodePorts'],
    });
  });

  it('says there are no nodes when there are none', () => {
    expect(decide(makePod('a'), [])).toEqual({ unschedulable: 'no nodes available to schedule pods', rejectedBy: [] });
  });

  it('in a large cluster stops filtering once enough nodes fit, and goes on from there next time', () => {
    expect([50, 100, 1000, 5000, 10_000].map(feasibleNodesToFind)).toEqual([50, 100, 420, 500, 500]);
    const nodes = Array.from({ length: 200 }, (_, i) => makeNodeInfo(makeNode(`n${String(i).padStart(3, '0')}`)));
    let visited = 0;
    const first = decide(makePod('a'), nodes, { startIndex: 0, onVisited: (n: number) => { visited = n; } });
    expect(visited).toBe(100);
    expect(first).toEqual({ node: 'n000' });
    expect(decide(makePod('b'), nodes, { startIndex: visited })).toEqual({ node: 'n100' });
    // A pod that fits nowhere still hears about every node.
    expect(decide(makePod('c', { cpu: '64' }), nodes)).toMatchObject({ unschedulable: '0/200 nodes are available: 200 Insufficient cpu. preemption: not eligible.' });
  });
});
