import { validateManifest } from './manifest';
import { envVarNameError } from './env-source';

const pod = (container: Record<string, unknown>) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox', ...container }] },
});
const env = (e: Record<string, unknown>) => pod({ env: [{ name: 'X', ...e }] });

describe('env sources in the pod schema', () => {
  it('accepts each kind of source', () => {
    for (const valueFrom of [
      { fieldRef: { fieldPath: 'metadata.name' } }, { fieldRef: { apiVersion: 'v1', fieldPath: "metadata.labels['app.kubernetes.io/name']" } },
      { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } }, { configMapKeyRef: { name: 'c', key: 'k', optional: true } },
      { secretKeyRef: { name: 's', key: 'k' } },
    ]) expect(() => validateManifest(env({ valueFrom }))).not.toThrow();
    expect(() => validateManifest(pod({ envFrom: [{ prefix: 'P_', configMapRef: { name: 'c' } }, { secretRef: { name: 's', optional: true } }] }))).not.toThrow();
  });

  it('wants exactly one source per valueFrom and envFrom, naming the problem', () => {
    expect(() => validateManifest(env({ valueFrom: {} }))).toThrow(/spec\.containers\[0\]\.env\[0\]\.valueFrom: must specify one of: fieldRef, resourceFieldRef, configMapKeyRef or secretKeyRef/);
    expect(() => validateManifest(env({ valueFrom: { fieldRef: { fieldPath: 'metadata.name' }, secretKeyRef: { name: 's', key: 'k' } } })))
      .toThrow(/may not have more than one field specified at a time \(has fieldRef, secretKeyRef\)/);
    expect(() => validateManifest(env({ value: 'v', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }))).toThrow(/may not be specified when `value` is not empty/);
    expect(() => validateManifest(pod({ envFrom: [{ configMapRef: { name: 'c' }, secretRef: { name: 's' } }] }))).toThrow(/exactly one of: configMapRef or secretRef/);
    expect(() => validateManifest(pod({ envFrom: [{ prefix: 'P' }] }))).toThrow(/exactly one of/);
  });

  it('refuses unsupported field paths and resources', () => {
    expect(() => validateManifest(env({ valueFrom: { fieldRef: { fieldPath: 'spec.hostname' } } }))).toThrow(/unsupported fieldPath "spec.hostname"/);
    expect(() => validateManifest(env({ valueFrom: { resourceFieldRef: { resource: 'limits.gpu' } } }))).toThrow(/resourceFieldRef\.resource/);
  });

  it('accepts imagePullSecrets by name', () => {
    expect(() => validateManifest({ ...pod({}), spec: { ...pod({}).spec, imagePullSecrets: [{ name: 'reg' }] } })).not.toThrow();
    expect(() => validateManifest({ ...pod({}), spec: { ...pod({}).spec, imagePullSecrets: [{ secret: 'reg' }] } })).toThrow(/imagePullSecrets/);
  });

  it('tells valid variable names as Kubernetes does', () => {
    for (const ok of ['A', '_a', 'a.b-c', '-x']) expect(envVarNameError(ok)).toBeUndefined();
    for (const bad of ['1A', 'a b', 'a=b', '']) expect(envVarNameError(bad)).toBeDefined();
  });
});
