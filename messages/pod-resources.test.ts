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

describe('extended resources', () => {
  it.each([
    [{ 'example.com/dongle': '1' }, undefined, /a limit must be set for example.com\/dongle/],
    [{ 'example.com/dongle': '1' }, { 'example.com/dongle': '2' }, /the request for example.com\/dongle \(1\) must equal its limit \(2\)/],
    [undefined, { 'example.com/dongle': '500m' }, /example.com\/dongle must be a whole number \(got 500m\)/],
    [{ 'nvidia.com/gpu': '0.5' }, { 'nvidia.com/gpu': '0.5' }, /nvidia.com\/gpu must be a whole number/],
  ])('refuse requests %j with limits %j', (requests, limits, msg) => {
    expect(() => validateManifest(pod(requests ?? {}, limits))).toThrow(msg);
  });

  it('accept a limit alone, or a request equal to the limit written another way', () => {
    expect(() => validateManifest(pod({}, { 'example.com/dongle': '3' }))).not.toThrow();
    expect(() => validateManifest(pod({ 'example.com/dongle': '1' }, { 'example.com/dongle': 1 }))).not.toThrow();
  });
});
