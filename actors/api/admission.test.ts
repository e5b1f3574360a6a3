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
    expect(() => admitUpdate(podKind, { ...stored, metadata: { ...stored.metadata, deletionTimestamp: 'x' } }, pod('other'))).toThrow(/being deleted/);
  });
  describe('an object being deleted', () => {
    const terminating = (): KubeObject => {
      const stored = admitCreate(podKind, pod(), 'default', new Date());
      return { ...stored, metadata: { ...stored.metadata, deletionTimestamp: 'x', finalizers: ['a.io/x', 'b.io/y'] } };
    };
    const withMeta = (meta: Partial<KubeObject['metadata']>): KubeObject => ({ ...pod(), metadata: { ...pod().metadata, ...meta } });
    it('takes the removal of finalizers, by a whole-object write that drops the list or by a shorter list', () => {
      const emptied = admitUpdate(podKind, terminating(), withMeta({}), { replace: true })!;
      expect(emptied.metadata).not.toHaveProperty('finalizers');
      expect(emptied.metadata.deletionTimestamp).toBe('x');
      expect(admitUpdate(podKind, terminating(), withMeta({ finalizers: ['b.io/y'] }))!.metadata.finalizers).toEqual(['b.io/y']);
    });
    it('reports an unchanged write as unchanged, not as a refusal', () => {
      expect(admitUpdate(podKind, terminating(), withMeta({ finalizers: ['a.io/x', 'b.io/y'] }), { replace: true })).toBeNull();
      expect(admitUpdate(podKind, terminating(), withMeta({}))).toBeNull();
    });
    it('refuses new finalizers and any other change, naming what would change, even beside a removal', () => {
      expect(() => admitUpdate(podKind, terminating(), withMeta({ finalizers: ['a.io/x', 'b.io/y', 'c.io/z'] })))
        .toThrow('pod "web" is being deleted: no new finalizers can be added (c.io/z)');
      expect(() => admitUpdate(podKind, terminating(), withMeta({ finalizers: [], labels: { app: 'other' } })))
        .toThrow(/pod "web" is being deleted: only its finalizers may be removed until it is gone, and this write also changes metadata.labels/);
    });
  });
  it('keeps ownerReferences and finalizers a manifest leaves out, and changes them when written', () => {
    const stored = admitCreate(podKind, pod(), 'default', new Date());
    const ref = { apiVersion: 'v1', kind: 'Namespace', name: 'o', uid: 'u1' };
    const owned = admitUpdate(podKind, stored, { ...pod(), metadata: { ...pod().metadata, ownerReferences: [ref], finalizers: ['a.io/x'] } })!;
    expect(owned.metadata).toMatchObject({ ownerReferences: [ref], finalizers: ['a.io/x'], generation: 1 });
    expect(admitUpdate(podKind, owned, pod())).toBeNull();
    const bare = admitUpdate(podKind, owned, pod(), { replace: true })!;
    expect(bare.metadata).not.toHaveProperty('ownerReferences');
    expect(bare.metadata).not.toHaveProperty('finalizers');
  });
  it('takes top-level fields besides spec, without a new generation', () => {
    const stored = { ...admitCreate(podKind, pod(), 'default', new Date()), data: { a: '1' } } as KubeObject;
    const next = admitUpdate(podKind, stored, { ...pod(), data: { a: '2' } } as KubeObject) as KubeObject & { data: unknown };
    expect(next.data).toEqual({ a: '2' });
    expect(next.metadata.generation).toBe(1);
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
