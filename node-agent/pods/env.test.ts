import type { ConfigMap, Secret } from '../../messages/config-data';
import type { Container, Pod } from '../../messages/pod';
import { ContainerConfigError, expand, fieldValue, resolveContainer, resourceValue, type EnvObjects } from './env';

const vars: Record<string, string> = { A: 'a', EMPTY: '' };
const look = (n: string) => vars[n];

describe('expand', () => {
  it.each([
    ['$(A)', 'a'],
    ['x$(A)y$(A)', 'xaya'],
    ['$(EMPTY)z', 'z'],
    ['$(UNKNOWN)', '$(UNKNOWN)'],
    ['$$(A)', '$(A)'],
    ['$$$(A)', '$a'],
    ['$$$$', '$$'],
    ['$A', '$A'],
    ['$', '$'],
    ['a$', 'a$'],
    ['$(A', '$(A'],
    ['$()', '$()'],
    ['$(A)$(', 'a$('],
    ['no refs', 'no refs'],
  ])('%s -> %s', (input, want) => expect(expand(input, look)).toBe(want));
});

const pod = (containers: Container[], extra: Partial<Pod['metadata']> = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', uid: 'u-1', labels: { app: 'web' }, annotations: { note: 'hi' }, ...extra },
  spec: { containers, nodeName: 'n1' },
});

const cm = (name: string, data: Record<string, string>): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
const sec = (name: string, data: Record<string, string>): Secret => ({
  apiVersion: 'v1', kind: 'Secret', metadata: { name },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});

function objects(cms: ConfigMap[], secrets: Secret[]): EnvObjects {
  return {
    configMap: async (n) => cms.find((c) => c.metadata.name === n),
    secret: async (n) => secrets.find((s) => s.metadata.name === n),
  };
}

describe('fieldValue', () => {
  const p = pod([{ name: 'c', image: 'i' }]);
  it.each([
    ['metadata.name', 'p'], ['metadata.namespace', 'ns'], ['metadata.uid', 'u-1'], ['spec.nodeName', 'n1'],
    ["metadata.labels['app']", 'web'], ["metadata.annotations['note']", 'hi'], ["metadata.labels['none']", ''],
    ['status.hostIP', '10.0.0.1'], ['status.podIP', '10.244.0.5'], ['status.podIPs', '10.244.0.5,fd00::5'],
    ['spec.serviceAccountName', ''],
  ])('%s = %j', (path, want) => {
    expect(fieldValue(p, path, { hostIP: '10.0.0.1', podIPs: ['10.244.0.5', 'fd00::5'] })).toBe(want);
  });
});

describe('resourceValue', () => {
  const c: Container = { name: 'c', image: 'i', resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '1500m' } } };
  const other: Container = { name: 'd', image: 'i', resources: { limits: { memory: '1Gi' } } };
  const p = pod([c, other]);
  const alloc = { allocatable: { cpu: '4', memory: '8Gi' } };
  it('rounds up to whole divisors, 1 by default', () => {
    expect(resourceValue(p, c, { resource: 'requests.cpu' }, alloc)).toBe('1');
    expect(resourceValue(p, c, { resource: 'requests.cpu', divisor: '1m' }, alloc)).toBe('250');
    expect(resourceValue(p, c, { resource: 'limits.cpu' }, alloc)).toBe('2');
    expect(resourceValue(p, c, { resource: 'requests.memory', divisor: '1Mi' }, alloc)).toBe('64');
    expect(resourceValue(p, c, { resource: 'requests.memory' }, alloc)).toBe(String(64 * 2 ** 20));
  });
  it("gives the node's allocatable for a limit not set", () => {
    expect(resourceValue(p, c, { resource: 'limits.memory', divisor: '1Gi' }, alloc)).toBe('8');
    expect(resourceValue(p, other, { resource: 'limits.cpu', divisor: '1m' }, alloc)).toBe('4000');
  });
  it('reads another container by name, and a request from a limit alone', () => {
    expect(resourceValue(p, c, { containerName: 'd', resource: 'requests.memory', divisor: '1Mi' }, alloc)).toBe('1024');
    expect(() => resourceValue(p, c, { containerName: 'x', resource: 'limits.cpu' }, alloc)).toThrow(ContainerConfigError);
  });
});

describe('resolveContainer', () => {
  it('takes envFrom first, then env in order, expanding plain values and command and args', async () => {
    const c: Container = {
      name: 'c', image: 'i',
      envFrom: [{ configMapRef: { name: 'cfg' } }, { secretRef: { name: 'creds' }, prefix: 'S_' }],
      env: [
        { name: 'MODE', value: 'fast' },
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'GREETING', value: '$(HELLO)-$(POD)-$(LATER)-$$(POD)' },
        { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
        { name: 'REF', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'HELLO' } } },
        { name: 'LATER', value: 'late' },
      ],
      command: ['sh', '-c', 'echo $(GREETING) $(NOPE)'],
      args: ['$(MODE)'],
    };
    const out = await resolveContainer(pod([c]), c, { objects: objects([cm('cfg', { HELLO: 'world', MODE: 'slow' })], [sec('creds', { password: 's3cret' })]) });
    expect(Object.fromEntries(out.env.map((e) => [e.name, e.value]))).toEqual({
      HELLO: 'world', MODE: 'fast', S_password: 's3cret', POD: 'p', GREETING: 'world-p-$(LATER)-$(POD)', PASS: 's3cret', REF: 'world', LATER: 'late',
    });
    expect(out.command).toEqual(['sh', '-c', 'echo world-p-$(LATER)-$(POD) $(NOPE)']);
    expect(out.args).toEqual(['fast']);
  });

  it('does not expand values from sources', async () => {
    const c: Container = { name: 'c', image: 'i', env: [{ name: 'A', value: 'x' }, { name: 'B', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }] };
    const out = await resolveContainer(pod([c]), c, { objects: objects([cm('cfg', { k: '$(A)' })], []) });
    expect(out.env).toContainEqual({ name: 'B', value: '$(A)' });
  });

  it('names a missing ConfigMap, Secret or key', async () => {
    const objs = objects([cm('cfg', { a: '1' })], [sec('creds', { a: '1' })]);
    const run = (c: Partial<Container>) => resolveContainer(pod([{ name: 'c', image: 'i', ...c }]), { name: 'c', image: 'i', ...c }, { objects: objs });
    await expect(run({ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'a' } } }] })).rejects.toThrow('configmap "nope" not found');
    await expect(run({ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'b' } } }] })).rejects.toThrow("couldn't find key b in ConfigMap ns/cfg");
    await expect(run({ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'b' } } }] })).rejects.toThrow("couldn't find key b in Secret ns/creds");
    await expect(run({ envFrom: [{ secretRef: { name: 'nope' } }] })).rejects.toThrow(ContainerConfigError);
  });

  it('leaves out what optional references miss', async () => {
    const c: Container = {
      name: 'c', image: 'i',
      envFrom: [{ configMapRef: { name: 'nope', optional: true } }],
      env: [
        { name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'a', optional: true } } },
        { name: 'Y', valueFrom: { secretKeyRef: { name: 'creds', key: 'b', optional: true } } },
        { name: 'Z', value: '$(X)' },
      ],
    };
    const out = await resolveContainer(pod([c]), c, { objects: objects([], [sec('creds', { a: '1' })]) });
    expect(out.env).toEqual([{ name: 'Z', value: '$(X)' }]);
  });

  it('skips keys that are not valid variable names, with a warning', async () => {
    const warnings: string[] = [];
    const c: Container = { name: 'c', image: 'i', envFrom: [{ configMapRef: { name: 'cfg' } }] };
    const out = await resolveContainer(pod([c]), c, {
      objects: objects([cm('cfg', { good: '1', '1bad': '2' })], []),
      warn: (reason, message) => warnings.push(`${reason}: ${message}`),
    });
    expect(out.env).toEqual([{ name: 'good', value: '1' }]);
    expect(warnings).toEqual(['InvalidEnvironmentVariableNames: Keys [1bad] from the EnvFrom configMap ns/cfg were skipped since they are considered invalid environment variable names.']);
  });
});
