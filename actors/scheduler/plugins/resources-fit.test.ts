import { info, makeNode, makeNodeInfo, makePod } from './fixtures';
import { resourcesFitFilter } from './resources-fit';

describe('the resources filter', () => {
  const node = makeNode('n', { allocatable: { cpu: '2', memory: '1Gi', pods: '3', 'nvidia.com/gpu': '1' } });

  it('fits a pod into what the bound pods leave free', () => {
    const n = makeNodeInfo(node, [makePod('x', { cpu: '1500m', memory: '512Mi' })]);
    expect(resourcesFitFilter(info(makePod('a', { cpu: '500m', memory: '512Mi' })), n)).toEqual([]);
  });

  it('names every resource that falls short, cpu first, then memory, then the others by name', () => {
    const n = makeNodeInfo(node, [makePod('x', { cpu: '1500m', memory: '512Mi' })]);
    const p = makePod('a', { cpu: '501m', memory: '513Mi' });
    p.spec.containers[0].resources!.limits = { 'nvidia.com/gpu': '2' };
    expect(resourcesFitFilter(info(p), n)).toEqual(['Insufficient cpu', 'Insufficient memory', 'Insufficient nvidia.com/gpu']);
  });

  it('treats an extended resource the node does not have as insufficient', () => {
    const p = makePod('a');
    p.spec.containers[0].resources = { limits: { 'example.com/dongle': '1' } as never };
    expect(resourcesFitFilter(info(p), makeNodeInfo(node))).toEqual(['Insufficient example.com/dongle']);
  });

  it('counts pods against the node pod capacity', () => {
    const n = makeNodeInfo(node, [makePod('x'), makePod('y'), makePod('z')]);
    expect(resourcesFitFilter(info(makePod('a')), n)).toEqual(['Too many pods']);
  });

  it('counts an init container larger than the app containers', () => {
    const p = makePod('a', { cpu: '100m' });
    p.spec.initContainers = [{ name: 'i', image: 'busybox', resources: { requests: { cpu: '3' } } }];
    expect(resourcesFitFilter(info(p), makeNodeInfo(node))).toEqual(['Insufficient cpu']);
  });
});
