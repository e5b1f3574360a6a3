import type { Pod } from '../messages/pod';
import { EventAggregator } from './event-aggregator';

const pod = (uid: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid }, spec: { containers: [] } });
const src = { component: 'mk-node', host: 'n1' };
const T0 = Date.parse('2026-01-01T00:00:00Z');

describe('EventAggregator', () => {
  it('builds a v1 Event about the object', () => {
    const ev = new EventAggregator().next(pod('u1'), 'Normal', 'Started', 'Started container app', src, T0);
    expect(ev).toMatchObject({
      apiVersion: 'v1', kind: 'Event', metadata: { namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', uid: 'u1' },
      reason: 'Started', message: 'Started container app', type: 'Normal', count: 1,
      firstTimestamp: '2026-01-01T00:00:00Z', lastTimestamp: '2026-01-01T00:00:00Z', source: src,
    });
    expect(ev.metadata.name).toMatch(/^web\.[0-9a-f]{16}$/);
  });

  it('counts repeats within 10 minutes under the same name, and starts afresh after', () => {
    const agg = new EventAggregator();
    const a = agg.next(pod('u1'), 'Warning', 'BackOff', 'm', src, T0);
    const b = agg.next(pod('u1'), 'Warning', 'BackOff', 'm', src, T0 + 60_000);
    const c = agg.next(pod('u1'), 'Warning', 'BackOff', 'm', src, T0 + 9 * 60_000);
    expect([b.metadata.name, c.metadata.name]).toEqual([a.metadata.name, a.metadata.name]);
    expect([a.count, b.count, c.count]).toEqual([1, 2, 3]);
    expect(c).toMatchObject({ firstTimestamp: '2026-01-01T00:00:00Z', lastTimestamp: '2026-01-01T00:09:00Z' });
    // The window runs from the last repeat.
    const d = agg.next(pod('u1'), 'Warning', 'BackOff', 'm', src, T0 + 20 * 60_000);
    expect(d.count).toBe(1);
    expect(d.metadata.name).not.toBe(a.metadata.name);
  });

  it('keeps different objects, reasons and messages apart', () => {
    const agg = new EventAggregator();
    const names = new Set([
      agg.next(pod('u1'), 'Normal', 'Pulled', 'x', src, T0),
      agg.next(pod('u2'), 'Normal', 'Pulled', 'x', src, T0),
      agg.next(pod('u1'), 'Normal', 'Created', 'x', src, T0),
      agg.next(pod('u1'), 'Normal', 'Pulled', 'y', src, T0),
    ].map((e) => { expect(e.count).toBe(1); return e.metadata.name; }));
    expect(names.size).toBe(4);
  });

  it('forgets the least recently seen beyond its bound', () => {
    const agg = new EventAggregator(10 * 60_000, 2);
    const first = agg.next(pod('u1'), 'Normal', 'A', 'm', src, T0);
    agg.next(pod('u2'), 'Normal', 'A', 'm', src, T0 + 1);
    agg.next(pod('u3'), 'Normal', 'A', 'm', src, T0 + 2);
    expect(agg.size).toBe(2);
    const again = agg.next(pod('u1'), 'Normal', 'A', 'm', src, T0 + 3);
    expect(again.count).toBe(1);
    expect(again.metadata.name).not.toBe(first.metadata.name);
  });
});
