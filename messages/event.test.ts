import { isValidation } from './errors';
import { parseEventFieldSelector } from './event';
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

  it('parses field selectors on involvedObject', () => {
    expect(parseEventFieldSelector('involvedObject.name=web,involvedObject.uid==u1')).toEqual({ involvedName: 'web', involvedUid: 'u1' });
    expect(parseEventFieldSelector('involvedObject.kind=Pod')).toEqual({ involvedKind: 'Pod' });
    expect(parseEventFieldSelector('')).toEqual({});
    expect(parseEventFieldSelector('reason=Started')).toMatch(/not supported for events/);
    expect(parseEventFieldSelector('involvedObject.name!=web')).toMatch(/not supported for events/);
  });
});
