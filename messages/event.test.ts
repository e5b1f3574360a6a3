import { isValidation } from './errors';
import type { KubeObject } from './meta';
import { matchesFields, parseFieldSelector } from './field-selectors';
import { EventKind } from './kinds/event';
import { resolveKind } from './registry';
import { validateManifest } from './manifest';

const event = {
  apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.1', namespace: 'default' },
  involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', uid: 'u1' },
  reason: 'Started', message: 'Started container app', type: 'Normal', count: 1,
  firstTimestamp: '2026-01-01T00:00:00Z', lastTimestamp: '2026-01-01T00:00:00Z', source: { component: 'mk-node' },
};

describe('the events kind', () => {
  it('resolves events, event and ev as a read-only kind', () => {
    for (const n of ['events', 'event', 'ev', 'Event']) expect(resolveKind(n)).toMatchObject({ kind: 'Event', plural: 'events', readOnly: true });
  });

  it('refuses to apply an Event, even a well-formed one, saying why', () => {
    let err: unknown;
    try { validateManifest(event); } catch (e) { err = e; }
    expect(isValidation(err)).toBe(true);
    expect((err as Error).message).toBe('Event "web.1" cannot be applied: events are recorded by mk\'s own components and are read-only');
  });

  it('selects by the fields Kubernetes selects events by, and names a field it cannot', () => {
    const ev = event as unknown as KubeObject;
    const sel = (s: string) => matchesFields(EventKind, parseFieldSelector(EventKind, s), ev);
    expect(sel('involvedObject.name=web,involvedObject.uid==u1')).toBe(true);
    expect(sel('involvedObject.kind=Pod,involvedObject.namespace=default,type=Normal,reason=Started')).toBe(true);
    expect(sel('source=mk-node,metadata.name=web.1')).toBe(true);
    expect(sel('type!=Normal')).toBe(false);
    expect(sel('reason=Pulled')).toBe(false);
    expect(sel('')).toBe(true);
    expect(() => parseFieldSelector(EventKind, 'spec.nodeName=n1')).toThrow('field label not supported: spec.nodeName');
    expect(() => parseFieldSelector(EventKind, 'involvedObject.fieldPath=x')).toThrow('field label not supported: involvedObject.fieldPath');
  });
});
