import { isValidation, type KubeObject } from '../../messages';
import { eventSelection } from './select';

const event = (over: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.1', namespace: 'default' },
  involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', uid: 'u1' },
  reason: 'BackOff', message: 'Back-off', type: 'Warning', count: 2, source: { component: 'mk-node', host: 'n1' },
  ...over,
} as unknown as KubeObject);

const caught = (f: () => unknown): unknown => {
  try { f(); } catch (e) { return e; }
  return undefined;
};

describe('eventSelection', () => {
  it('narrows the stream by namespace and by an involvedObject kind, name and uid asked for with =', () => {
    const s = eventSelection({ namespace: 'default', fieldSelector: 'involvedObject.kind=Pod,involvedObject.name==web,involvedObject.uid=u1' });
    expect(s).toMatchObject({ namespace: 'default', involvedKind: 'Pod', involvedName: 'web', involvedUid: 'u1' });
    expect(s.test(event())).toBe(true);
    // `!=` is tested on each event, never used as a filter.
    const not = eventSelection({ fieldSelector: 'involvedObject.kind!=Pod' });
    expect(not.involvedKind).toBeUndefined();
    expect(not.test(event())).toBe(false);
  });

  it('selects by type, reason and source, and by labels', () => {
    expect(eventSelection({ fieldSelector: 'type=Warning,reason=BackOff,source=mk-node' }).test(event())).toBe(true);
    expect(eventSelection({ fieldSelector: 'type=Normal' }).test(event())).toBe(false);
    expect(eventSelection({ labelSelector: 'app' }).test(event())).toBe(false);
    expect(eventSelection({ labelSelector: '!app' }).test(event())).toBe(true);
  });

  it('uses no subject filter for a kind that is no subject token: it selects nothing', () => {
    const s = eventSelection({ fieldSelector: 'involvedObject.kind=a.b' });
    expect(s.involvedKind).toBeUndefined();
    expect(s.test(event())).toBe(false);
  });

  it('refuses what it cannot read, naming it', () => {
    for (const [req, message] of [
      [{ fieldSelector: 'spec.nodeName=n1' }, 'field label not supported: spec.nodeName'],
      [{ fieldSelector: 'reason' }, 'is not field=value'],
      [{ fieldSelector: 3 }, 'fieldSelector must be a string'],
      [{ labelSelector: 'a in (b' }, ''],
      [{ namespace: 'Bad_NS' }, 'invalid namespace "Bad_NS"'],
      [{ namespace: 7 }, 'must be a string'],
    ] as const) {
      const err = caught(() => eventSelection(req));
      expect(isValidation(err)).toBe(true);
      expect((err as Error).message).toContain(message);
    }
  });
});
