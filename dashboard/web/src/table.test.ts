import { TableState } from './table';

interface R { key: string; v: number }
const r = (key: string, v = 0): R => ({ key, v });

describe('a table kept from a snapshot and deltas', () => {
  it('replaces everything on a snapshot, in its order', () => {
    const t = new TableState<R>();
    t.snapshot({ rows: [r('a'), r('b')], total: 10, offset: 0 });
    t.snapshot({ rows: [r('c'), r('a', 1)], total: 2, offset: 0 });
    expect(t.rows()).toEqual([r('c'), r('a', 1)]);
    expect(t.total).toBe(2);
  });

  it('upserts in place, appends new keys, removes keys, and follows a new order', () => {
    const t = new TableState<R>();
    t.snapshot({ rows: [r('a'), r('b'), r('c')], total: 3, offset: 0 });
    t.delta({ upsert: [r('b', 5), r('d')], total: 4 });
    expect(t.rows().map((x) => `${x.key}${x.v}`)).toEqual(['a0', 'b5', 'c0', 'd0']);
    t.delta({ remove: ['a', 'nope'], total: 3 });
    expect(t.rows().map((x) => x.key)).toEqual(['b', 'c', 'd']);
    t.delta({ upsert: [r('e', 1)], order: ['e', 'd', 'b'] });
    expect(t.rows().map((x) => x.key)).toEqual(['e', 'd', 'b']);
    expect(t.get('c')).toBeUndefined();
    expect(t.total).toBe(3);
  });
});
