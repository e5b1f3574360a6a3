import type { Pod } from '../../messages';
import { SchedulerCache, type ClusterEvent } from './cache';
import { makeNode, makePod } from './plugins/fixtures';

const bind = (p: Pod, node: string): Pod => ({ ...p, spec: { ...p.spec, nodeName: node } });

describe('the scheduler cache', () => {
  it('keeps per-node aggregates as pods come, finish and go', () => {
    const cache = new SchedulerCache();
    cache.nodeChanged('nodes._cluster.a', makeNode('a'));
    const p1 = bind(makePod('p1', { cpu: '500m', memory: '1Gi' }), 'a');
    cache.podChanged('pods.default.p1', p1);
    cache.podChanged('pods.default.p2', bind(makePod('p2', { cpu: '250m' }), 'a'));
    const a = cache.byName.get('a')!;
    expect(a.requested).toMatchObject({ cpu: 750, memory: 2 ** 30, pods: 2 });
    // A status change of the same pod changes nothing it takes.
    cache.podChanged('pods.default.p1', { ...p1, status: { phase: 'Running', podIP: '10.0.0.1' } });
    expect(a.requested).toMatchObject({ cpu: 750, pods: 2 });
    // A finished pod frees its room; a deleted one too.
    cache.podChanged('pods.default.p1', { ...p1, status: { phase: 'Succeeded' } });
    expect(a.requested).toMatchObject({ cpu: 250, memory: 0, pods: 1 });
    cache.podChanged('pods.default.p2', null);
    expect(a.requested).toMatchObject({ cpu: 0, pods: 0 });
    expect(a.pods.size).toBe(0);
  });

  it('counts the bindings the scheduler made before the informer shows them, and forgets a failed one', () => {
    const cache = new SchedulerCache();
    cache.nodeChanged('nodes._cluster.a', makeNode('a'));
    const p1 = makePod('p1', { cpu: '900m' });
    cache.podChanged('pods.default.p1', p1);
    cache.assume('pods.default.p1', bind(p1, 'a'));
    // The informer lags: it still shows p1 unbound, yet the room is taken.
    cache.podChanged('pods.default.p1', p1);
    expect(cache.byName.get('a')!.requested.cpu).toBe(900);
    // Once it shows the binding, the real object counts, once.
    cache.podChanged('pods.default.p1', bind(p1, 'a'));
    expect(cache.byName.get('a')!.requested).toMatchObject({ cpu: 900, pods: 1 });
    // A binding whose write failed is forgotten: its room is free again.
    const p2 = makePod('p2', { cpu: '1' });
    cache.podChanged('pods.default.p2', p2);
    cache.assume('pods.default.p2', bind(p2, 'a'));
    expect(cache.byName.get('a')!.requested.cpu).toBe(1900);
    cache.forget('pods.default.p2');
    expect(cache.byName.get('a')!.requested).toMatchObject({ cpu: 900, pods: 1 });
  });

  it('keeps the pods of a node that is not registered, and counts them once it is', () => {
    const cache = new SchedulerCache();
    cache.podChanged('pods.default.p1', bind(makePod('p1', { cpu: '1' }), 'late'));
    expect(cache.nodes).toHaveLength(0);
    cache.nodeChanged('nodes._cluster.late', makeNode('late'));
    expect(cache.nodes.map((n) => n.requested.cpu)).toEqual([1000]);
    cache.nodeChanged('nodes._cluster.late', null);
    expect(cache.nodes).toHaveLength(0);
  });

  it('reports the changes that could let a waiting pod fit, and not a heartbeat', () => {
    const events: ClusterEvent[] = [];
    const cache = new SchedulerCache((e) => events.push(e));
    const node = makeNode('a');
    cache.nodeChanged('nodes._cluster.a', node);
    const beat = structuredClone(node);
    beat.status!.conditions![0].lastHeartbeatTime = new Date().toISOString();
    cache.nodeChanged('nodes._cluster.a', beat);
    cache.nodeChanged('nodes._cluster.a', { ...beat, metadata: { ...beat.metadata, labels: { disk: 'ssd' } } });
    cache.nodeChanged('nodes._cluster.a', { ...beat, spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } });
    const p = makePod('p', { cpu: '1' });
    cache.podChanged('pods.default.p', p);
    cache.podChanged('pods.default.p', bind(p, 'a'));
    cache.podChanged('pods.default.p', null);
    expect(events.map((e) => e.type)).toEqual(['NodeAdd', 'NodeUpdate', 'NodeUpdate', 'PodPlaced', 'PodGone', 'PodFreed', 'PodGone']);
  });

  it('lists the bound pods with affinity terms', () => {
    const cache = new SchedulerCache();
    cache.nodeChanged('nodes._cluster.a', makeNode('a'));
    const anti = makePod('x', {}, { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: {}, topologyKey: 'kubernetes.io/hostname' }] } } });
    cache.podChanged('pods.default.x', bind(anti, 'a'));
    cache.podChanged('pods.default.y', bind(makePod('y'), 'a'));
    expect(cache.withAffinity.map((p) => p.key)).toEqual(['pods.default.x']);
    expect(cache.withAffinity[0].hasRequiredAntiAffinity).toBe(true);
    cache.podChanged('pods.default.x', null);
    expect(cache.withAffinity).toHaveLength(0);
  });

  it('knows which placed pods use a claim, while they hold their node', () => {
    const cache = new SchedulerCache();
    cache.nodeChanged('nodes._cluster.a', makeNode('a'));
    const withClaim = (name: string) => makePod(name, {}, { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] });
    cache.podChanged('pods.default.waiting', withClaim('waiting'));
    expect([...cache.claimUsers('default', 'data')]).toEqual([]);
    const p1 = bind(withClaim('p1'), 'a');
    cache.podChanged('pods.default.p1', p1);
    cache.assume('pods.default.p2', bind(withClaim('p2'), 'a'));
    expect([...cache.claimUsers('default', 'data')].sort()).toEqual(['pods.default.p1', 'pods.default.p2']);
    expect(cache.claimUsers('other', 'data').size).toBe(0);
    cache.podChanged('pods.default.p1', { ...p1, status: { phase: 'Failed' } });
    cache.forget('pods.default.p2');
    expect(cache.claimUsers('default', 'data').size).toBe(0);
  });
});
