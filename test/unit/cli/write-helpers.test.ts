import { appliedConfiguration, lastApplied, mergedForApply } from '../../../cli/apply-merge';
import { metadataPatch, parseMetadataArgs } from '../../../cli/metadata-args';
import { LAST_APPLIED_ANNOTATION, PodKind, NodeKind, type KubeObject } from '../../../messages';

const pod = (extra: Partial<KubeObject['metadata']> = {}, spec: unknown = { containers: [{ name: 'c', image: 'busybox' }] }): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', ...extra }, spec,
});

describe('appliedConfiguration', () => {
  it('drops status and server metadata, sets the namespace and records itself in the annotation', () => {
    const obj = { ...pod({ uid: 'u', resourceVersion: '7', generation: 3, creationTimestamp: 't', labels: { a: 'b' }, annotations: { note: 'n', [LAST_APPLIED_ANNOTATION]: 'old' } }), status: { phase: 'Running' } };
    const config = appliedConfiguration(obj, PodKind, 'team');
    const recorded = JSON.parse(config.metadata.annotations?.[LAST_APPLIED_ANNOTATION] ?? '');
    expect(recorded).toEqual({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'team', labels: { a: 'b' }, annotations: { note: 'n' } }, spec: obj.spec });
    expect(config).toEqual({ ...recorded, metadata: { ...recorded.metadata, annotations: { note: 'n', [LAST_APPLIED_ANNOTATION]: JSON.stringify(recorded) } } });
    expect(lastApplied(config)).toEqual(recorded);
  });

  it('drops a namespace from a cluster-scoped kind', () => {
    const node = appliedConfiguration({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', namespace: 'x' } }, NodeKind, undefined);
    expect(node.metadata.namespace).toBeUndefined();
  });
});

describe('mergedForApply', () => {
  it('removes what the last configuration had and the new one has not, keeps the live rest, at the live resourceVersion', () => {
    const first = appliedConfiguration(pod({ labels: { a: '1', b: '2' } }), PodKind, 'default');
    const live: KubeObject = { ...first, metadata: { ...first.metadata, uid: 'u', resourceVersion: '9', labels: { a: '1', b: '2', c: 'others' } }, status: { phase: 'Pending' } };
    const next = appliedConfiguration(pod({ labels: { a: '1' } }), PodKind, 'default');
    const merged = mergedForApply(next, live);
    expect(merged.metadata).toMatchObject({ uid: 'u', resourceVersion: '9', labels: { a: '1', c: 'others' } });
    expect(merged.metadata.annotations?.[LAST_APPLIED_ANNOTATION]).toBe(next.metadata.annotations?.[LAST_APPLIED_ANNOTATION]);
    expect(merged.status).toEqual({ phase: 'Pending' });
  });

  it('treats an unreadable annotation as none (nothing is removed)', () => {
    const live = pod({ resourceVersion: '3', labels: { a: '1' }, annotations: { [LAST_APPLIED_ANNOTATION]: '{not json' } });
    expect(lastApplied(live)).toBeUndefined();
    expect(mergedForApply(appliedConfiguration(pod(), PodKind, 'default'), live).metadata.labels).toEqual({ a: '1' });
  });
});

describe('label and annotate arguments', () => {
  it('splits objects from changes', () => {
    expect(parseMetadataArgs(['pods', 'a', 'b', 'x=1', 'example.com/y=', 'z-'], 'label')).toEqual({
      targets: ['pods', 'a', 'b'], changes: { set: { x: '1', 'example.com/y': '' }, remove: ['z'] },
    });
    expect(parseMetadataArgs(['pod/a', 'note=any text: at all'], 'annotation').changes.set).toEqual({ note: 'any text: at all' });
  });

  it.each([
    [['pod', 'a', 'bad key=1'], 'label', 'invalid label "bad key=1"'],
    [['pod', 'a', 'x=has space'], 'label', 'a label value must be empty or consist of'],
    [['pod', 'a', `x=${'v'.repeat(64)}`], 'label', 'at most 63 characters'],
    [['pod', 'a', 'Bad_Prefix/x=1'], 'label', 'the prefix "Bad_Prefix" must be a DNS subdomain'],
    [['pod', 'a'], 'label', 'at least one label update is required'],
    [['x=1'], 'label', 'give the objects'],
    [['pod', 'a', 'x=1', 'x-'], 'label', 'label "x" is given more than once'],
    [['pod', 'a', 'x=1', 'b'], 'annotation', '"b" is neither key=value nor key-'],
  ] as const)('refuses %j', (args, what, message) => {
    expect(() => parseMetadataArgs([...args], what)).toThrow(message);
  });

  it('builds the merge patch, refusing to change a value without overwrite', () => {
    const missing: string[] = [];
    const changes = { set: { a: '1', b: '2' }, remove: ['c', 'gone'] };
    expect(metadataPatch('labels', { a: '1', c: '3' }, changes, false, missing)).toEqual({ metadata: { labels: { b: '2', c: null } } });
    expect(missing).toEqual(['gone']);
    expect(() => metadataPatch('labels', { a: '0' }, changes, false, [])).toThrow("'a' already has a value (0), and --overwrite is false");
    expect(metadataPatch('annotations', { a: '0' }, { set: { a: '1' }, remove: [] }, true, [])).toEqual({ metadata: { annotations: { a: '1' } } });
    expect(metadataPatch('labels', { a: '1' }, { set: { a: '1' }, remove: [] }, false, [])).toBeNull();
  });
});
