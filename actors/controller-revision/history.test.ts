import { revisionTemplate, type ControllerRevision, type PodTemplateSpec } from '../../messages';
import {
  controllerRevisionName, newControllerRevision, nextRevisionNumber, ownedRevisions, planUpdateRevision, REVISION_HASH_LABEL, revisionsToPrune,
  type RevisionOwner,
} from './history';

const template = (image: string): PodTemplateSpec => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } });
const owner = (image: string, extra: Partial<RevisionOwner['spec']> = {}, annotations?: Record<string, string>): RevisionOwner => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet',
  metadata: { name: 'web', namespace: 'default', uid: 'set-uid', ...(annotations ? { annotations } : {}) },
  spec: { selector: { matchLabels: { app: 'web' } }, template: template(image), ...extra },
});
const rev = (image: string, n: number, uid = 'set-uid'): ControllerRevision => ({
  ...newControllerRevision({ ...owner(image), metadata: { ...owner(image).metadata, uid } }, `h${image}`, n),
});

describe('controllerRevisionName', () => {
  it('is <set>-<hash>, the prefix cut to 223 characters', () => {
    expect(controllerRevisionName('web', '6b8f9c7d5')).toBe('web-6b8f9c7d5');
    expect(controllerRevisionName('a'.repeat(300), 'h')).toBe(`${'a'.repeat(223)}-h`);
  });
});

describe('newControllerRevision', () => {
  it('stores the template as a replace patch, labelled, annotated and owned by its set', () => {
    const r = newControllerRevision(owner('v1', {}, { 'kubernetes.io/change-cause': 'first' }), 'abc', 1);
    expect(r.metadata).toMatchObject({
      name: 'web-abc', namespace: 'default',
      labels: { app: 'web', [REVISION_HASH_LABEL]: 'abc' },
      annotations: { 'kubernetes.io/change-cause': 'first' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid', controller: true, blockOwnerDeletion: true }],
    });
    expect(r.data).toEqual({ spec: { template: { ...template('v1'), $patch: 'replace' } } });
    expect(revisionTemplate(r)).toEqual(template('v1'));
    expect(r.revision).toBe(1);
  });
});

describe('ownedRevisions and nextRevisionNumber', () => {
  it("keeps the set's own revisions by number, and numbers the next one max+1", () => {
    const revs = [rev('v3', 3), rev('v1', 1), rev('x', 7, 'other-uid'), rev('v2', 2)];
    expect(ownedRevisions(owner('v1'), revs).map((r) => r.revision)).toEqual([1, 2, 3]);
    expect(nextRevisionNumber(ownedRevisions(owner('v1'), revs))).toBe(4);
    expect(nextRevisionNumber([])).toBe(1);
  });
});

describe('planUpdateRevision', () => {
  it('makes revision 1 for a new set', () => {
    const step = planUpdateRevision(owner('v1'), 'h1', []);
    expect(step.action).toBe('create');
    expect(step.revision).toMatchObject({ metadata: { name: 'web-h1' }, revision: 1 });
  });

  it('keeps the newest revision when it holds the template', () => {
    const revs = [rev('v1', 1), rev('v2', 2)];
    expect(planUpdateRevision(owner('v2'), 'hv2', revs)).toEqual({ action: 'none', revision: revs[1] });
  });

  it('makes max+1 for a new template', () => {
    const step = planUpdateRevision(owner('v3'), 'hv3', [rev('v1', 1), rev('v2', 2)]);
    expect(step).toMatchObject({ action: 'create', revision: { metadata: { name: 'web-hv3' }, revision: 3 } });
  });

  it('renumbers an older equal revision max+1 when the template goes back to it, keeping its name', () => {
    const step = planUpdateRevision(owner('v1'), 'hv1', [rev('v1', 1), rev('v2', 2)]);
    expect(step).toMatchObject({ action: 'bump', revision: { metadata: { name: 'web-hv1' }, revision: 3 } });
  });

  it("ignores another set's revisions", () => {
    const step = planUpdateRevision(owner('v1'), 'hv1', [rev('v1', 4, 'other-uid')]);
    expect(step).toMatchObject({ action: 'create', revision: { revision: 1 } });
  });
});

describe('revisionsToPrune', () => {
  const revs = [1, 2, 3, 4, 5].map((n) => rev(`v${n}`, n));
  it('deletes the oldest revisions beyond the limit, never a live one', () => {
    const live = new Set(['web-hv5', 'web-hv1']);
    expect(revisionsToPrune(owner('v5', { revisionHistoryLimit: 2 }), revs, live).map((r) => r.revision)).toEqual([2]);
    expect(revisionsToPrune(owner('v5', { revisionHistoryLimit: 0 }), revs, live).map((r) => r.revision)).toEqual([2, 3, 4]);
  });
  it('keeps 10 old revisions when no limit is given', () => {
    const many = Array.from({ length: 13 }, (_, i) => rev(`v${i + 1}`, i + 1));
    expect(revisionsToPrune(owner('v13'), many, new Set(['web-hv13'])).map((r) => r.revision)).toEqual([1, 2]);
  });
});
