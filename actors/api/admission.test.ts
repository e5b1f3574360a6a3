import { ValidationError, type KubeObject, type Pod } from '../../messages';
import { admitCreate, admitUpdate, resolveNamespace, stableJson } from './admission';
import { matches, parseSelector } from '../../messages';
import { namespaceModule } from '../namespace/kind';
import { podModule } from '../pod/kind';

const podKind = podModule;
const nsKind = namespaceModule;
const pod = (image = 'busybox', extra: Partial<Pod['spec']> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web' }, uid: 'forged', resourceVersion: '9' },
  spec: { containers: [{ name: 'c', image }], ...extra },
});

describe('admission', () => {
  it('sets server metadata, defaults and initial status on create, ignoring forged fields', () => {
    const out = admitCreate(podKind, pod(), 'default', new Date('2026-01-02T03:04:05.678Z')) as Pod;
    expect(out.metadata.uid).not.toBe('forged');
    expect(out.metadata.resourceVersion).toBeUndefined();
    expect(out.metadata).toMatchObject({ namespace: 'default', generation: 1, creationTimestamp: '2026-01-02T03:04:05Z' });
    expect(out.spec).toMatchObject({ restartPolicy: 'Always', terminationGracePeriodSeconds: 30 });
    expect(out.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
    expect(out.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
  });
  it('reports unchanged, bumps generation on a spec change, keeps status', () => {
    const stored = admitCreate(podKind, pod(), 'default', new Date());
    stored.status = { phase: 'Running' };
    expect(admitUpdate(podKind, stored, pod())).toBeNull();
    const next = admitUpdate(podKind, stored, pod('busybox:1.35.0'))!;
    expect(next.metadata.generation).toBe(2);
    expect(next.status).toEqual({ phase: 'Running' });
    const relabeled = admitUpdate(podKind, stored, { ...pod(), metadata: { name: 'web', labels: { app: 'x' } } })!;
    expect(relabeled.metadata).toMatchObject({ generation: 1, labels: { app: 'x' } });
  });
  it('refuses changes to immutable pod fields and to a terminating object', () => {
    const stored = admitCreate(podKind, pod(), 'default', new Date());
    expect(() => admitUpdate(podKind, stored, pod('busybox', { restartPolicy: 'Never' }))).toThrow(ValidationError);
    const bound = { ...stored, spec: { ...(stored.spec as object), nodeName: 'n1' } };
    expect(admitUpdate(podKind, bound, pod())).toBeNull();
    expect(() => admitUpdate(podKind, { ...stored, metadata: { ...stored.metadata, deletionTimestamp: 'x' } }, pod())).toThrow(/being deleted/);
  });
  it('leaves generation alone for label and annotation changes, and stores an emptied map as none', () => {
    const stored = admitCreate(podKind, pod(), 'default', new Date());
    const relabelled = admitUpdate(podKind, stored, { ...pod(), metadata: { name: 'web', labels: { app: 'web', tier: 't' }, annotations: { a: 'b' } } });
    expect(relabelled?.metadata).toMatchObject({ generation: 1, labels: { app: 'web', tier: 't' }, annotations: { a: 'b' } });
    const emptied = admitUpdate(podKind, relabelled!, { ...pod(), metadata: { name: 'web', labels: {}, annotations: {} } });
    expect(emptied?.metadata.generation).toBe(1);
    expect(emptied?.metadata).not.toHaveProperty('labels');
    expect(emptied?.metadata).not.toHaveProperty('annotations');
    const bare = admitCreate(podKind, { ...pod(), metadata: { name: 'web', labels: {}, annotations: {} } }, 'default', new Date());
    expect(bare.metadata).not.toHaveProperty('labels');
    expect(bare.metadata).not.toHaveProperty('annotations');
  });
  it('resolves namespaces like kubectl', () => {
    expect(resolveNamespace(podKind.info, pod(), undefined)).toBe('default');
    expect(resolveNamespace(podKind.info, { ...pod(), metadata: { name: 'a', namespace: 'x' } }, 'x')).toBe('x');
    expect(() => resolveNamespace(podKind.info, { ...pod(), metadata: { name: 'a', namespace: 'x' } }, 'y')).toThrow(/pass -n x/);
    expect(resolveNamespace(nsKind.info, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }, 'y')).toBeUndefined();
  });
  it('compares objects regardless of key order', () => {
    expect(stableJson({ a: 1, b: { d: 2, c: undefined } })).toBe(stableJson({ b: { d: 2 }, a: 1 }));
  });
});

describe('label selectors', () => {
  const l = { app: 'web', tier: 'front' };
  it.each([
    ['app=web', true], ['app==web', true], ['app!=web', false], ['app', true], ['!gpu', true],
    ['tier in (front,back)', true], ['tier notin (front)', false], ['app=web,tier=back', false], ['', true],
  ])('%s -> %s', (sel, want) => expect(matches(parseSelector(sel), l)).toBe(want));
  it('names a bad term', () => expect(() => parseSelector('app=web,=x')).toThrow(/label key is empty/));
});
