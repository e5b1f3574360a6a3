import { isValidation, ValidationError } from './errors';
import { validateManifest } from './manifest';
import { dns1123LabelError, dns1123SubdomainError, objectKey, parseKey, actorName } from './names';
import { cpuMillis, formatCpu, formatMemory, memoryBytes, parseQuantity } from './quantity';
import { defaultPod, qosClass, type Pod } from './pod';

// A Pod as kubectl users write it, using every field mk supports.
const realPod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web.v1', namespace: 'default', labels: { app: 'web' }, annotations: { note: 'x' } },
  spec: {
    restartPolicy: 'OnFailure',
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    terminationGracePeriodSeconds: 10,
    initContainers: [{ name: 'init', image: 'busybox:1.35.0', command: ['sh', '-c', 'true'] }],
    containers: [{
      name: 'httpd', image: 'busybox', command: ['httpd'], args: ['-f', '-p', '8080'], workingDir: '/',
      env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
      resources: { requests: { cpu: '100m', memory: '16Mi' }, limits: { cpu: 1, memory: '64Mi' } },
      imagePullPolicy: 'IfNotPresent',
    }],
  },
};

describe('validateManifest', () => {
  it('accepts a real Kubernetes Pod manifest unchanged', () => {
    const { object, warnings } = validateManifest(realPod);
    expect(object).toEqual(realPod);
    expect(warnings).toEqual([]);
  });
  it('names every unknown field, and warn mode drops them with warnings', () => {
    const doc = structuredClone(realPod) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    doc.spec.containers[0].notAField = {};
    doc.metadata.foo = 1;
    const err = (() => { try { validateManifest(doc); } catch (e) { return e; } })() as ValidationError;
    expect(isValidation(err)).toBe(true);
    expect(err.issues).toEqual(['unknown field "metadata.foo"', 'unknown field "spec.containers[0].notAField"']);
    const warned = validateManifest(doc, 'warn');
    expect(warned.warnings).toHaveLength(2);
    expect(warned.object).toEqual(realPod);
  });
  it.each([
    [null, /mapping/],
    [[1], /mapping/],
    [{ kind: 'Pod' }, /apiVersion not set/],
    [{ apiVersion: 'v1', kind: 'Potato', metadata: { name: 'x' } }, /unknown kind "Potato"/],
    [{ apiVersion: 'apps/v1', kind: 'Pod', metadata: { name: 'x' } }, /serves Pod as apiVersion "v1"/],
    [{ ...realPod, metadata: { name: 'Web_1' } }, /invalid name "Web_1"/],
    [{ ...realPod, spec: { containers: [] } }, /at least one container/],
    [{ ...realPod, spec: { containers: [{ name: 'a', image: 'b', ports: [{ containerPort: 'x' }] }] } }, /containerPort/],
    [{ ...realPod, spec: { containers: [{ name: 'a', image: 'b' }, { name: 'a', image: 'c' }] } }, /duplicate container name "a"/],
    [{ ...realPod, spec: { containers: [{ name: 'a', image: 'b', resources: { limits: { cpu: '1x' } } }] } }, /invalid quantity "1x"/],
    [{ ...realPod, spec: { ...realPod.spec, restartPolicy: 'Sometimes' } }, /restartPolicy/],
  ])('refuses %j', (doc, msg) => {
    expect(() => validateManifest(doc)).toThrow(msg);
  });
});

describe('names', () => {
  it('checks DNS-1123 labels and subdomains', () => {
    expect(dns1123LabelError('web-1')).toBeNull();
    expect(dns1123LabelError('a.b')).toMatch(/lower case/);
    expect(dns1123LabelError('x'.repeat(64))).toMatch(/63/);
    expect(dns1123SubdomainError('a.b-c')).toBeNull();
    expect(dns1123SubdomainError('-a')).toMatch(/start and end/);
  });
  it('encodes dots in keys and round-trips', () => {
    expect(objectKey('pods', 'default', 'web.v1')).toBe('pods.default.web_v1');
    expect(objectKey('nodes', undefined, 'n1')).toBe('nodes._cluster.n1');
    expect(parseKey('pods.default.web_v1')).toEqual({ plural: 'pods', namespace: 'default', name: 'web.v1' });
    expect(parseKey('nodes._cluster.n1').namespace).toBeUndefined();
    expect(actorName('default', 'web')).toBe('default$web');
  });
});

describe('quantities', () => {
  it.each([['100m', 0.1], ['2', 2], ['1.5', 1.5], ['64Mi', 64 * 2 ** 20], ['1G', 1e9], ['129e6', 129e6], ['x', null], ['1Q', null]])(
    '%s -> %s', (q, v) => expect(parseQuantity(q)).toBe(v));
  it('converts and formats like kubectl', () => {
    expect(cpuMillis('250m')).toBe(250);
    expect(cpuMillis(0.5)).toBe(500);
    expect(memoryBytes('1Ki')).toBe(1024);
    expect(formatCpu(2000)).toBe('2');
    expect(formatCpu(250)).toBe('250m');
    expect(formatMemory(64 * 2 ** 20)).toBe('64Mi');
  });
});

describe('pod defaults and QoS', () => {
  it('defaults restart policy, grace period and pull policy (IfNotPresent even for :latest)', () => {
    const p = defaultPod({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a' }, spec: { containers: [{ name: 'c', image: 'busybox:latest' }] } });
    expect(p.spec).toMatchObject({ restartPolicy: 'Always', terminationGracePeriodSeconds: 30 });
    expect(p.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
  });
  it('classifies QoS', () => {
    const spec = (r?: object) => ({ containers: [{ name: 'c', image: 'b', ...(r ? { resources: r } : {}) }] }) as Pod['spec'];
    expect(qosClass(spec())).toBe('BestEffort');
    expect(qosClass(spec({ requests: { cpu: '1' } }))).toBe('Burstable');
    expect(qosClass(spec({ limits: { cpu: '1', memory: '1Gi' } }))).toBe('Guaranteed');
  });
});
