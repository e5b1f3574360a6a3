import type { Node, Pod } from '../../messages';
import { podRequests, schedule } from './schedule';

const node = (name: string, cpu = '2', memory = '4Gi', extra: Partial<Node['metadata']> = {}, ready = true): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, ...extra },
  status: { allocatable: { cpu, memory, pods: '110' }, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const pod = (name: string, cpu?: string, memory?: string, nodeName?: string, sel?: Record<string, string>): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, uid: name },
  spec: { nodeName, nodeSelector: sel, containers: [{ name: 'c', image: 'busybox', resources: { requests: { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) } } }] },
  status: { phase: 'Running' },
});

describe('schedule', () => {
  it('binds to the only ready node with room', () => {
    expect(schedule(pod('a', '500m'), [node('n1'), node('n2', '2', '4Gi', {}, false)], [])).toEqual({ node: 'n1' });
  });
  it('prefers the least allocated node', () => {
    const bound = [pod('x', '1500m', undefined, 'n1')];
    expect(schedule(pod('a', '100m'), [node('n1'), node('n2')], bound)).toEqual({ node: 'n2' });
  });
  it('says why nothing fits', () => {
    const d = schedule(pod('a', '3'), [node('n1'), node('n2', '2', '4Gi', {}, false)], []);
    expect(d).toEqual({ unschedulable: '0/2 nodes are available: 1 Insufficient cpu, 1 node(s) not ready.' });
  });
  it('counts bound pods but not finished ones', () => {
    const done = { ...pod('y', '2', undefined, 'n1'), status: { phase: 'Succeeded' as const } };
    expect(schedule(pod('a', '1'), [node('n1')], [done])).toEqual({ node: 'n1' });
    expect(schedule(pod('a', '1'), [node('n1')], [pod('z', '1500m', undefined, 'n1')])).toHaveProperty('unschedulable');
  });
  it('honours nodeSelector', () => {
    const nodes = [node('n1'), node('n2', '2', '4Gi', { labels: { disk: 'ssd' } })];
    expect(schedule(pod('a', undefined, undefined, undefined, { disk: 'ssd' }), nodes, [])).toEqual({ node: 'n2' });
    expect(schedule(pod('a', undefined, undefined, undefined, { disk: 'nvme' }), nodes, [])).toEqual({
      unschedulable: "0/2 nodes are available: 2 node(s) didn't match the pod's nodeSelector.",
    });
  });
  it('takes the larger of app sum and the biggest init container', () => {
    const p = pod('a', '100m', '64Mi');
    p.spec.initContainers = [{ name: 'i', image: 'busybox', resources: { requests: { cpu: '1', memory: '1Mi' } } }];
    expect(podRequests(p.spec)).toEqual({ cpu: 1000, memory: 64 * 2 ** 20, gpu: 0, pods: 1 });
  });
});
