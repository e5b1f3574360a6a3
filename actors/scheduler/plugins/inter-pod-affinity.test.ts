import type { Pod, PodAffinityTerm } from '../../../messages';
import { info, makeNode, makeNodeInfo, makePod } from './fixtures';
import {
  interPodAffinityFilter, interPodAffinityScore, interPodAffinityScores, interPodAffinityState, topologyValue, type ClusterView,
} from './inter-pod-affinity';
import type { NodeInfo } from './types';

const HOST = 'kubernetes.io/hostname';
const term = (app: string, topologyKey = HOST, namespaces?: string[]): PodAffinityTerm => ({
  labelSelector: { matchLabels: { app } }, topologyKey, ...(namespaces ? { namespaces } : {}),
});

/** A view over nodes with their pods, as the cache keeps it. */
function view(nodes: NodeInfo[]): ClusterView {
  const withAffinity = nodes.flatMap((n) => [...n.pods.values()]).filter((p) => p.hasAffinity);
  return { nodes, byName: new Map(nodes.map((n) => [n.name, n])), withAffinity };
}
const bound = (p: Pod, node: string): Pod => ({ ...p, spec: { ...p.spec, nodeName: node } });
const filter = (p: Pod, v: ClusterView) => Object.fromEntries(v.nodes.map((n) => [n.name, interPodAffinityFilter(p, n, interPodAffinityState(p, v))]));

describe('pod affinity', () => {
  const cache = makePod('cache', {}, {}, { app: 'cache' });
  const v = view([makeNodeInfo(makeNode('n1'), [bound(cache, 'n1')]), makeNodeInfo(makeNode('n2'))]);

  it('required: only onto the node of a matching pod', () => {
    const p = makePod('web', {}, { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('cache')] } } });
    expect(filter(p, v)).toEqual({ n1: [], n2: ["node(s) didn't match pod affinity rules"] });
  });

  it('required: looks in the term namespaces, the pod own by default', () => {
    const other = makePod('web', {}, { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('cache')] } } }, {}, 'team');
    expect(filter(other, v).n1).toEqual(["node(s) didn't match pod affinity rules"]);
    const named = makePod('web', {}, { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('cache', HOST, ['default'])] } } }, {}, 'team');
    expect(filter(named, v).n1).toEqual([]);
  });

  it('required: the first pod of a group that matches its own term may go anywhere', () => {
    const p = makePod('w1', {}, { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('group')] } } }, { app: 'group' });
    expect(filter(p, v)).toEqual({ n1: [], n2: [] });
    const notSelf = makePod('w1', {}, { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('group')] } } });
    expect(filter(notSelf, v).n2).toEqual(["node(s) didn't match pod affinity rules"]);
  });

  it('required: a node without the topology label is no match', () => {
    const zoned = view([makeNodeInfo(makeNode('n1', { labels: { zone: 'a' } }), [bound(cache, 'n1')]), makeNodeInfo(makeNode('n2'))]);
    const p = makePod('web', {}, { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('cache', 'zone')] } } });
    expect(filter(p, zoned)).toEqual({ n1: [], n2: ["node(s) didn't match pod affinity rules"] });
  });
});

describe('pod anti-affinity', () => {
  it('required: keeps the pod off nodes that run a matching pod', () => {
    const web = makePod('web-1', {}, {}, { app: 'web' });
    const v = view([makeNodeInfo(makeNode('n1'), [bound(web, 'n1')]), makeNodeInfo(makeNode('n2'))]);
    const p = makePod('web-2', {}, { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web')] } } }, { app: 'web' });
    expect(filter(p, v)).toEqual({ n1: ["node(s) didn't match pod anti-affinity rules"], n2: [] });
  });

  it("is symmetric: an existing pod's required anti-affinity keeps matching newcomers away", () => {
    const loner = makePod('loner', {}, { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('noisy')] } } });
    const v = view([makeNodeInfo(makeNode('n1'), [bound(loner, 'n1')]), makeNodeInfo(makeNode('n2'))]);
    expect(filter(makePod('noisy', {}, {}, { app: 'noisy' }), v)).toEqual({ n1: ["node(s) didn't satisfy existing pods anti-affinity rules"], n2: [] });
    expect(filter(makePod('quiet', {}, {}, { app: 'quiet' }), v)).toEqual({ n1: [], n2: [] });
  });

  it('by zone: keeps the pod out of the whole domain', () => {
    const web = makePod('web-1', {}, {}, { app: 'web' });
    const v = view([
      makeNodeInfo(makeNode('a1', { labels: { zone: 'a' } }), [bound(web, 'a1')]),
      makeNodeInfo(makeNode('a2', { labels: { zone: 'a' } })),
      makeNodeInfo(makeNode('b1', { labels: { zone: 'b' } })),
    ]);
    const p = makePod('web-2', {}, { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web', 'zone')] } } });
    const r = filter(p, v);
    expect([r.a1.length, r.a2.length, r.b1.length]).toEqual([1, 1, 0]);
  });
});

describe('pod affinity scores', () => {
  it('add preferred affinity weights and take preferred anti-affinity weights, both ways', () => {
    const cache = makePod('cache', {}, {}, { app: 'cache' });
    const web = makePod('web', {}, {}, { app: 'web' });
    const v = view([makeNodeInfo(makeNode('n1'), [bound(cache, 'n1')]), makeNodeInfo(makeNode('n2'), [bound(web, 'n2')]), makeNodeInfo(makeNode('n3'))]);
    const p = makePod('p', {}, {
      affinity: {
        podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 30, podAffinityTerm: term('cache') }] },
        podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term('web') }] },
      },
    });
    const sums = interPodAffinityScores(p, v);
    expect(v.nodes.map((n) => interPodAffinityScore(n, sums))).toEqual([30, -10, 0]);
  });

  it("count an existing pod's terms that select the newcomer", () => {
    const friendly = makePod('friendly', {}, { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 7, podAffinityTerm: term('web') }] } } });
    const v = view([makeNodeInfo(makeNode('n1'), [bound(friendly, 'n1')]), makeNodeInfo(makeNode('n2'))]);
    const sums = interPodAffinityScores(makePod('w', {}, {}, { app: 'web' }), v);
    expect(v.nodes.map((n) => interPodAffinityScore(n, sums))).toEqual([7, 0]);
    expect(info(friendly).hasAffinity).toBe(true);
  });
});

describe('topology', () => {
  it('takes the node name for kubernetes.io/hostname when the label is missing', () => {
    expect(topologyValue(makeNode('n1'), HOST)).toBe('n1');
    expect(topologyValue(makeNode('n1', { labels: { [HOST]: 'host-1' } }), HOST)).toBe('host-1');
    expect(topologyValue(makeNode('n1'), 'zone')).toBeUndefined();
  });
});
