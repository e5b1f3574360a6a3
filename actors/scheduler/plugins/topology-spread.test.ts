import type { Node, Pod, TopologySpreadConstraint } from '../../../messages';
import { info, makeNode, makeNodeInfo, makePod } from './fixtures';
import type { ClusterView } from './inter-pod-affinity';
import {
  REASON_TOPOLOGY_SPREAD, REASON_TOPOLOGY_SPREAD_MISSING_LABEL, topologySpreadFilter, topologySpreadScores, topologySpreadState,
} from './topology-spread';
import type { NodeInfo } from './types';
import { schedule } from '../schedule';

const ZONE = 'topology.kubernetes.io/zone';
const HOST = 'kubernetes.io/hostname';

function view(nodes: NodeInfo[]): ClusterView {
  return { nodes, byName: new Map(nodes.map((n) => [n.name, n])), withAffinity: [] };
}
const bound = (p: Pod, node: string): Pod => ({ ...p, spec: { ...p.spec, nodeName: node } });
const web = (name: string, labels: Record<string, string> = { app: 'web' }, namespace = 'default') => makePod(name, {}, {}, labels, namespace);
/** Nodes with `count` matching pods each, labelled with their zone. */
function cluster(spec: [name: string, zone: string | undefined, pods: number, extra?: Parameters<typeof makeNode>[1]][]): ClusterView {
  return view(spec.map(([name, zone, pods, extra]) => {
    const labels = { ...(zone ? { [ZONE]: zone } : {}), ...(extra?.labels ?? {}) };
    const node: Node = makeNode(name, { ...extra, labels });
    return makeNodeInfo(node, Array.from({ length: pods }, (_, i) => bound(web(`${name}-${i}`), name)));
  }));
}
const spread = (c: Partial<TopologySpreadConstraint> = {}): TopologySpreadConstraint => ({
  maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } }, ...c,
});
const incoming = (...constraints: TopologySpreadConstraint[]) => ({
  ...web('new'), spec: { ...web('new').spec, topologySpreadConstraints: constraints },
});
function filter(p: Pod, v: ClusterView): Record<string, readonly string[]> {
  const state = topologySpreadState(p, v);
  return Object.fromEntries(v.nodes.map((n) => [n.name, topologySpreadFilter(n, state)]));
}

describe('PodTopologySpread filter', () => {
  it('with maxSkew 1 across zones, only the zone with the fewest matching pods fits', () => {
    const v = cluster([['a1', 'a', 2], ['a2', 'a', 0], ['b1', 'b', 1], ['c1', 'c', 2]]);
    expect(filter(incoming(spread()), v)).toEqual({ a1: [REASON_TOPOLOGY_SPREAD], a2: [REASON_TOPOLOGY_SPREAD], b1: [], c1: [REASON_TOPOLOGY_SPREAD] });
  });

  it('a larger maxSkew admits more zones', () => {
    const v = cluster([['a1', 'a', 2], ['b1', 'b', 1], ['c1', 'c', 3]]);
    expect(filter(incoming(spread({ maxSkew: 2 })), v)).toEqual({ a1: [], b1: [], c1: [REASON_TOPOLOGY_SPREAD] });
  });

  it('across hostnames: each node is a domain, by its name when it lacks the label', () => {
    const v = cluster([['n1', undefined, 1], ['n2', undefined, 0], ['n3', undefined, 1]]);
    expect(filter(incoming(spread({ topologyKey: HOST })), v)).toEqual({ n1: [REASON_TOPOLOGY_SPREAD], n2: [], n3: [REASON_TOPOLOGY_SPREAD] });
  });

  it('a node without the topology key does not fit, with its own reason', () => {
    const v = cluster([['a1', 'a', 0], ['x', undefined, 0]]);
    expect(filter(incoming(spread()), v)).toEqual({ a1: [], x: [REASON_TOPOLOGY_SPREAD_MISSING_LABEL] });
  });

  it('counts only pods of the namespace that the selector, with matchLabelKeys, matches', () => {
    const a = makeNodeInfo(makeNode('a1', { labels: { [ZONE]: 'a' } }), [
      bound(web('other-ns', { app: 'web' }, 'other'), 'a1'),
      bound(web('other-app', { app: 'db' }), 'a1'),
      bound(web('old-version', { app: 'web', hash: 'v1' }), 'a1'),
    ]);
    const b = makeNodeInfo(makeNode('b1', { labels: { [ZONE]: 'b' } }), [bound(web('same', { app: 'web', hash: 'v2' }), 'b1')]);
    const p = { ...incoming(spread({ matchLabelKeys: ['hash'] })), metadata: { name: 'new', namespace: 'default', labels: { app: 'web', hash: 'v2' } } };
    expect(filter(p, view([a, b]))).toEqual({ a1: [], b1: [REASON_TOPOLOGY_SPREAD] });
  });

  it('a pod its own selector does not match does not add itself', () => {
    const v = cluster([['a1', 'a', 1], ['b1', 'b', 0]]);
    const p = { ...incoming(spread()), metadata: { name: 'new', namespace: 'default', labels: { app: 'other' } } };
    // skew without self: a 1 - 0 = 1 <= 1, so both fit.
    expect(filter(p, v)).toEqual({ a1: [], b1: [] });
  });

  it('minDomains: with fewer eligible domains than that, the lowest count is taken as 0', () => {
    const v = cluster([['a1', 'a', 1], ['b1', 'b', 1]]);
    expect(filter(incoming(spread()), v)).toEqual({ a1: [], b1: [] });
    expect(filter(incoming(spread({ minDomains: 3 })), v)).toEqual({ a1: [REASON_TOPOLOGY_SPREAD], b1: [REASON_TOPOLOGY_SPREAD] });
    expect(filter(incoming(spread({ minDomains: 2 })), v)).toEqual({ a1: [], b1: [] });
  });

  it('nodeAffinityPolicy Honor (the default) leaves out nodes the pod may not go to; Ignore counts them', () => {
    // Zone c has no pods but its only node does not match the nodeSelector: with Honor it is no domain.
    const v = cluster([['a1', 'a', 1, { labels: { disk: 'ssd' } }], ['b1', 'b', 2, { labels: { disk: 'ssd' } }], ['c1', 'c', 0]]);
    const withSelector = (c: TopologySpreadConstraint) => {
      const p = incoming(c);
      return { ...p, spec: { ...p.spec, nodeSelector: { disk: 'ssd' } } };
    };
    expect(filter(withSelector(spread()), v)).toEqual({ a1: [], b1: [REASON_TOPOLOGY_SPREAD], c1: [] });
    expect(filter(withSelector(spread({ nodeAffinityPolicy: 'Ignore' })), v)).toEqual({
      a1: [REASON_TOPOLOGY_SPREAD], b1: [REASON_TOPOLOGY_SPREAD], c1: [],
    });
  });

  it('nodeTaintsPolicy Ignore (the default) counts tainted nodes; Honor leaves out those the pod does not tolerate', () => {
    const taint = { key: 'dedicated', value: 'x', effect: 'NoSchedule' as const };
    const v = cluster([['a1', 'a', 1], ['b1', 'b', 1], ['c1', 'c', 0, { taints: [taint] }]]);
    expect(filter(incoming(spread()), v)).toEqual({ a1: [REASON_TOPOLOGY_SPREAD], b1: [REASON_TOPOLOGY_SPREAD], c1: [] });
    expect(filter(incoming(spread({ nodeTaintsPolicy: 'Honor' })), v)).toEqual({ a1: [], b1: [], c1: [] });
  });

  it('nothing to do for a pod without DoNotSchedule constraints', () => {
    const v = cluster([['a1', 'a', 5]]);
    expect(topologySpreadState(web('p'), v)).toBeUndefined();
    expect(topologySpreadState(incoming(spread({ whenUnsatisfiable: 'ScheduleAnyway' })), v)).toBeUndefined();
  });
});

describe('PodTopologySpread score', () => {
  const soft = (c: Partial<TopologySpreadConstraint> = {}) => spread({ whenUnsatisfiable: 'ScheduleAnyway', ...c });

  it('prefers the zone with the fewest matching pods', () => {
    const v = cluster([['a1', 'a', 3], ['b1', 'b', 0], ['c1', 'c', 1]]);
    const scores = topologySpreadScores(incoming(soft()), v.nodes, v)!;
    expect(scores[1]).toBe(100);
    expect(scores[0]).toBeLessThan(scores[2]);
    expect(scores[2]).toBeLessThan(scores[1]);
  });

  it('counts the whole zone, not only the feasible node in it', () => {
    const v = cluster([['a1', 'a', 0], ['a2', 'a', 4], ['b1', 'b', 1]]);
    const feasible = [v.nodes[0], v.nodes[2]];
    const [a1, b1] = topologySpreadScores(incoming(soft()), feasible, v)!;
    expect(b1).toBe(100);
    expect(a1).toBeLessThan(b1);
  });

  it('gives 0 to a node without the key, and 100 to all when nothing matches anywhere', () => {
    const v = cluster([['a1', 'a', 0], ['b1', 'b', 0], ['x', undefined, 0]]);
    expect(topologySpreadScores(incoming(soft()), v.nodes, v)).toEqual([100, 100, 0]);
  });

  it('places the pod in the emptier zone when ScheduleAnyway is all there is', () => {
    const v = cluster([['a1', 'a', 2], ['b1', 'b', 0]]);
    const decision = schedule(info(incoming(soft())), v);
    expect(decision).toEqual({ node: 'b1' });
  });

  it('undefined for a pod without ScheduleAnyway constraints', () => {
    const v = cluster([['a1', 'a', 0]]);
    expect(topologySpreadScores(incoming(spread()), v.nodes, v)).toBeUndefined();
  });
});

describe('schedule with DoNotSchedule constraints', () => {
  it('says why no node fits in the FailedScheduling message', () => {
    const v = cluster([['a1', 'a', 2], ['b1', 'b', 1], ['x', undefined, 0]]);
    v.nodes[1].node.spec = { unschedulable: true };
    const decision = schedule(info(incoming(spread())), v);
    expect(decision).toEqual({
      unschedulable: expect.stringContaining('1 node(s) didn\'t match pod topology spread constraints'),
      rejectedBy: expect.arrayContaining(['PodTopologySpread']),
    });
    expect((decision as { unschedulable: string }).unschedulable).toContain("1 node(s) didn't match pod topology spread constraints (missing required label)");
  });
});
