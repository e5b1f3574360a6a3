import type { ConfigMap, Secret } from '../../messages/config-data';
import type { Pod } from '../../messages/pod';
import type { EnvObjects } from '../pods/env';
import { configMapPayload, downwardAPIPayload, formatMap, secretPayload } from './payloads';

const cm: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'game' }, data: { 'game.properties': 'lives=3', mode: 'hard' }, binaryData: { bin: Buffer.from([0, 1, 2]).toString('base64') } };
const secret: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, data: { password: Buffer.from('s3cret').toString('base64') } };
const objects: EnvObjects = {
  configMap: async (n) => (n === cm.metadata.name ? cm : undefined),
  secret: async (n) => (n === secret.metadata.name ? secret : undefined),
};
const text = (b: Buffer | string): string => b.toString();

const pod: Pod = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web', namespace: 'prod', uid: 'u-1', labels: { zone: 'a', app: 'web' }, annotations: { 'build': 'say "hi"' } },
  spec: {
    containers: [
      { name: 'app', image: 'busybox', resources: { limits: { cpu: '500m', memory: '64Mi' }, requests: { cpu: '250m' } } },
      { name: 'side', image: 'busybox' },
    ],
  },
};

describe('configMap and secret payloads', () => {
  it('gives every key as a file with defaultMode (0644 unless set), binaryData decoded', async () => {
    const p = await configMapPayload('v', { name: 'game' }, objects, 'prod');
    expect(Object.keys(p).sort()).toEqual(['bin', 'game.properties', 'mode']);
    expect(text(p['game.properties'].content)).toBe('lives=3');
    expect(p.bin.content).toEqual(Buffer.from([0, 1, 2]));
    expect(p.mode.mode).toBe(0o644);
    expect((await configMapPayload('v', { name: 'game', defaultMode: 0o400 }, objects, 'prod')).mode.mode).toBe(0o400);
  });

  it('gives only the items, at their paths and modes; a missing key is an error naming it unless optional', async () => {
    const p = await configMapPayload('v', { name: 'game', items: [{ key: 'mode', path: 'conf/mode.txt', mode: 0o600 }] }, objects, 'prod');
    expect(Object.keys(p)).toEqual(['conf/mode.txt']);
    expect(p['conf/mode.txt']).toEqual({ content: Buffer.from('hard'), mode: 0o600 });
    await expect(configMapPayload('v', { name: 'game', items: [{ key: 'nope', path: 'x' }] }, objects, 'prod'))
      .rejects.toThrow('key "nope" is not in ConfigMap prod/game');
    expect(await configMapPayload('v', { name: 'game', optional: true, items: [{ key: 'nope', path: 'x' }] }, objects, 'prod')).toEqual({});
    await expect(configMapPayload('v', { name: 'game', items: [{ key: 'mode', path: '../x' }] }, objects, 'prod')).rejects.toThrow("must not contain '..'");
    await expect(configMapPayload('v', { name: 'game', defaultMode: 0o1777 }, objects, 'prod')).rejects.toThrow('defaultMode 1023 must be an integer from 0 to 0777');
  });

  it('a missing object is an error unless optional, then an empty volume', async () => {
    await expect(configMapPayload('v', { name: 'gone' }, objects, 'prod')).rejects.toThrow('configmap "gone" not found');
    expect(await configMapPayload('v', { name: 'gone', optional: true }, objects, 'prod')).toEqual({});
    await expect(secretPayload('v', { secretName: 'gone' }, objects, 'prod')).rejects.toThrow('secret "gone" not found');
    expect(await secretPayload('v', { secretName: 'gone', optional: true }, objects, 'prod')).toEqual({});
  });

  it('decodes secret values', async () => {
    const p = await secretPayload('v', { secretName: 'creds', items: [{ key: 'password', path: 'db/pw' }] }, objects, 'prod');
    expect(text(p['db/pw'].content)).toBe('s3cret');
    await expect(secretPayload('v', { secretName: 'creds', items: [{ key: 'user', path: 'u' }] }, objects, 'prod')).rejects.toThrow('key "user" is not in Secret prod/creds');
  });
});

describe('downwardAPI payload', () => {
  it('writes metadata fields, labels and annotations as sorted key="value" lines, and single keys', () => {
    const p = downwardAPIPayload('info', pod, {
      defaultMode: 0o444,
      items: [
        { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
        { path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } },
        { path: 'uid', fieldRef: { fieldPath: 'metadata.uid' }, mode: 0o400 },
        { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
        { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
        { path: 'zone', fieldRef: { fieldPath: "metadata.labels['zone']" } },
        { path: 'none', fieldRef: { fieldPath: "metadata.annotations['none']" } },
      ],
    }, {});
    const files = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, text(v.content)]));
    expect(files).toEqual({ name: 'web', ns: 'prod', uid: 'u-1', labels: 'app="web"\nzone="a"', annotations: 'build="say \\"hi\\""', zone: 'a', none: '' });
    expect(p.name.mode).toBe(0o444);
    expect(p.uid.mode).toBe(0o400);
  });

  it('writes limits and requests with their divisor, the node allocatable for a limit not set', () => {
    const p = downwardAPIPayload('res', pod, {
      items: [
        { path: 'cpu_limit', resourceFieldRef: { containerName: 'app', resource: 'limits.cpu', divisor: '1m' } },
        { path: 'cpu_request', resourceFieldRef: { containerName: 'app', resource: 'requests.cpu', divisor: '1m' } },
        { path: 'mem_limit', resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' } },
        { path: 'side_mem', resourceFieldRef: { containerName: 'side', resource: 'limits.memory' } },
      ],
    }, { allocatable: { memory: '2Gi' } });
    const files = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, text(v.content)]));
    expect(files).toEqual({ cpu_limit: '500', cpu_request: '250', mem_limit: '64', side_mem: String(2 * 1024 ** 3) });
  });

  it('refuses fields a volume cannot give and resource refs without a container', () => {
    expect(() => downwardAPIPayload('d', pod, { items: [{ path: 'ip', fieldRef: { fieldPath: 'status.podIP' } }] }, {}))
      .toThrow('fieldPath "status.podIP" is not supported in a downwardAPI volume');
    expect(() => downwardAPIPayload('d', pod, { items: [{ path: 'c', resourceFieldRef: { resource: 'limits.cpu' } }] }, {}))
      .toThrow('resourceFieldRef.containerName is required');
    expect(() => downwardAPIPayload('d', pod, { items: [{ path: 'c', resourceFieldRef: { containerName: 'ghost', resource: 'limits.cpu' } }] }, {}))
      .toThrow('container "ghost" is not in the pod');
    expect(formatMap(undefined)).toBe('');
  });
});
