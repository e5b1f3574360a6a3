import { validateManifest } from './manifest';

const pod = (requests: Record<string, unknown>, limits?: Record<string, unknown>) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
  spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests, ...(limits ? { limits } : {}) } }] },
});

describe('resource lists', () => {
  it('accept cpu, memory, nvidia.com/gpu and extended resources named <domain>/<name>', () => {
    const doc = pod({ cpu: '100m', memory: '64Mi', 'example.com/dongle': '2' }, { 'nvidia.com/gpu': 1, 'example.com/dongle': '2' });
    expect(validateManifest(doc).object).toEqual(doc);
  });

  it.each([
    [{ dongle: '1' }, /unsupported resource "dongle"/],
    [{ 'kubernetes.io/batteries': '1' }, /unsupported resource "kubernetes.io\/batteries"/],
    [{ 'example.com/dongle': 'many' }, /invalid quantity "many"/],
  ])('refuse %j', (requests, msg) => {
    expect(() => validateManifest(pod(requests))).toThrow(msg);
  });
});
