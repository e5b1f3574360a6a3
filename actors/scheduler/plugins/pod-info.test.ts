import { makeNode, makePod } from './fixtures';
import { DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, nodeAllocatable, nonZeroRequests, podHostPorts, podRequests } from './pod-info';

describe('pod requests', () => {
  it('sums app containers and takes the larger of that and the biggest init container, per resource', () => {
    const p = makePod('a', { cpu: '100m', memory: '64Mi' });
    p.spec.containers.push({ name: 'd', image: 'busybox', resources: { requests: { cpu: '200m' }, limits: { 'nvidia.com/gpu': '1' } } });
    p.spec.initContainers = [
      { name: 'i1', image: 'busybox', resources: { requests: { cpu: '1', memory: '1Mi' } } },
      { name: 'i2', image: 'busybox', resources: { requests: { memory: '128Mi' } } },
    ];
    expect(podRequests(p)).toEqual({ cpu: 1000, memory: 128 * 2 ** 20, 'nvidia.com/gpu': 1 });
  });

  it('counts a resource given only a limit at its limit, and extended resources by name', () => {
    const p = makePod('a');
    p.spec.containers[0].resources = { limits: { cpu: '2', 'example.com/dongle': '3' } as never };
    expect(podRequests(p)).toEqual({ cpu: 2000, 'example.com/dongle': 3 });
  });

  it('gives containers without requests the non-zero defaults for scoring', () => {
    const p = makePod('a');
    p.spec.containers.push({ name: 'd', image: 'busybox', resources: { requests: { cpu: '1' } } });
    expect(nonZeroRequests(p)).toEqual({ cpu: DEFAULT_MILLI_CPU_REQUEST + 1000, memory: 2 * DEFAULT_MEMORY_REQUEST });
  });

  it('lists host ports with TCP and 0.0.0.0 as defaults, and ignores ports without one', () => {
    const p = makePod('a');
    p.spec.containers[0].ports = [{ containerPort: 80, hostPort: 8080 }, { containerPort: 53, hostPort: 53, protocol: 'UDP', hostIP: '127.0.0.1' }, { containerPort: 9 }];
    expect(podHostPorts(p)).toEqual([{ ip: '0.0.0.0', protocol: 'TCP', port: 8080 }, { ip: '127.0.0.1', protocol: 'UDP', port: 53 }]);
  });

  it("reads a node's allocatable in the same units, 110 pods when not given, a malformed quantity as 0", () => {
    expect(nodeAllocatable(makeNode('n', { allocatable: { cpu: '1500m', memory: '1Gi', 'nvidia.com/gpu': '2' } }))).toEqual({
      pods: 110, cpu: 1500, memory: 2 ** 30, 'nvidia.com/gpu': 2,
    });
    expect(nodeAllocatable(makeNode('n', { allocatable: { cpu: 'lots' } })).cpu).toBe(0);
  });
});

describe('extended resources patched into capacity', () => {
  it('count as allocatable when allocatable does not name them', () => {
    const node = makeNode('n', { allocatable: { cpu: '1', 'example.com/dongle': '1' } });
    node.status!.capacity = { cpu: '2', 'example.com/dongle': '9', 'example.com/widget': '4' };
    expect(nodeAllocatable(node)).toEqual({ pods: 110, cpu: 1000, 'example.com/dongle': 1, 'example.com/widget': 4 });
  });
});
