import * as fs from 'node:fs';
import { load } from 'js-yaml';
import { formatSelector, selectorMatches } from './label-selector';
import { validateManifest } from './manifest';
import { defaultReplicaSet, type ReplicaSet } from './replicaset';

const rs = (spec: Record<string, unknown>) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web' }, spec });
const template = { metadata: { labels: { app: 'web', tier: 'front' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };

describe('ReplicaSet manifests', () => {
  it('accepts a Kubernetes ReplicaSet as written, with set-based selectors', () => {
    const doc = rs({
      replicas: 3, minReadySeconds: 5, template,
      selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] },
    });
    expect(validateManifest(doc).object).toEqual(doc);
  });

  it('refuses a selector that does not match the template labels, naming the field', () => {
    expect(() => validateManifest(rs({ selector: { matchLabels: { app: 'api' } }, template })))
      .toThrow(/spec\.template\.metadata\.labels: Invalid value: \{"app":"web","tier":"front"\}: `selector` does not match template `labels`/);
  });

  it('refuses a missing or empty selector, negative replicas and unknown fields', () => {
    expect(() => validateManifest(rs({ template }))).toThrow(/spec\.selector: Required value/);
    expect(() => validateManifest(rs({ selector: {}, template }))).toThrow(/spec\.selector: Required value/);
    expect(() => validateManifest(rs({ replicas: -1, selector: { matchLabels: { app: 'web' } }, template })))
      .toThrow(/spec\.replicas: replicas must be 0 or more/);
    expect(() => validateManifest(rs({ replicas: 1, paused: true, selector: { matchLabels: { app: 'web' } }, template })))
      .toThrow(/unknown field "spec\.paused"/);
    expect(() => validateManifest(rs({ selector: { matchLabels: { app: 'web' } }, template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } })))
      .toThrow(/restartPolicy: Unsupported value: "Never": supported values: "Always"/);
  });

  it('defaults one replica and the template\'s pod defaults', () => {
    const out = defaultReplicaSet(rs({ selector: { matchLabels: { app: 'web' } }, template }) as unknown as ReplicaSet);
    expect(out.spec.replicas).toBe(1);
    expect(out.spec.minReadySeconds).toBe(0);
    expect(out.spec.template.spec.restartPolicy).toBe('Always');
    expect(out.spec.template.metadata?.labels).toEqual({ app: 'web', tier: 'front' });
  });
});

describe('label selectors', () => {
  const sel = { matchLabels: { app: 'web' }, matchExpressions: [
    { key: 'tier', operator: 'NotIn' as const, values: ['db'] }, { key: 'legacy', operator: 'DoesNotExist' as const },
    { key: 'env', operator: 'Exists' as const },
  ] };
  it('matches every part', () => {
    expect(selectorMatches(sel, { app: 'web', env: 'x' })).toBe(true);
    expect(selectorMatches(sel, { app: 'web', env: 'x', tier: 'db' })).toBe(false);
    expect(selectorMatches(sel, { app: 'web', env: 'x', legacy: '' })).toBe(false);
    expect(selectorMatches(sel, { app: 'web' })).toBe(false);
    expect(selectorMatches({}, undefined)).toBe(true);
  });
  it('prints like kubectl, sorted by key', () => {
    expect(formatSelector(sel)).toBe('app=web,env,!legacy,tier notin (db)');
    expect(formatSelector(undefined)).toBe('<none>');
  });
});

describe('examples/replicaset.yaml', () => {
  it('is a valid ReplicaSet whose selector does not take the web example pod', () => {
    const doc = load(fs.readFileSync(`${__dirname}/../examples/replicaset.yaml`, 'utf8'));
    const { object } = validateManifest(doc);
    const spec = (object as unknown as ReplicaSet).spec;
    expect(selectorMatches(spec.selector, { app: 'web' })).toBe(false);
    expect(spec.replicas).toBe(3);
  });
});
