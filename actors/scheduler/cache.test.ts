import type { Node, Pod } from '../../messages';
import { SchedulerCache } from './cache';
import { schedule } from './schedule';

const node = (name: string, cpu: string): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name },
  status: { allocatable: { cpu, memory: '4Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
});
const pod = (name: string, nodeName?: string): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: name },
  spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '900m' } } }], ...(nodeName ? { nodeName } : {}) },
});

describe('the scheduler cache', () => {
  it('counts the bindings the scheduler made before the informer shows them, and only until then', () => {
    const cache = new SchedulerCache();
    cache.nodeChanged('nodes._cluster.a', node('a', '1'));
    cache.podChanged('pods.default.p1', pod('p1'));
    cache.podChanged('pods.default.p2', pod('p2'));
    expect(schedule(pod('p1'), cache.allNodes(), cache.allPods())).toEqual({ node: 'a' });
    cache.assume('pods.default.p1', pod('p1', 'a'));
    // The informer lags: it still shows p1 unbound, yet the room is taken.
    cache.podChanged('pods.default.p1', pod('p1'));
    expect(schedule(pod('p2'), cache.allNodes(), cache.allPods())).toEqual({ unschedulable: '0/1 nodes are available: 1 Insufficient cpu.' });
    // Once it shows the binding, the cache holds the real object and nothing assumed.
    cache.podChanged('pods.default.p1', pod('p1', 'a'));
    expect(cache.allPods().filter((p) => p.spec.nodeName === 'a')).toHaveLength(1);
    // A deleted pod frees the room, assumed or not.
    cache.assume('pods.default.p2', pod('p2', 'a'));
    cache.podChanged('pods.default.p1', null);
    cache.podChanged('pods.default.p2', null);
    expect(schedule(pod('p3'), cache.allNodes(), cache.allPods())).toEqual({ node: 'a' });
  });
});
