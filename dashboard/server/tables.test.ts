import { applyChange, diffPage, pageOf, type Page } from './tables';

interface Row { key: string; v: number }
const rows = (...xs: [string, number][]): Row[] => xs.map(([key, v]) => ({ key, v }));

describe('pageOf and diffPage', () => {
  it('pages sorted rows and reports the total', () => {
    const all = rows(['a', 1], ['b', 2], ['c', 3], ['d', 4]);
    expect(pageOf(all, 1, 2)).toEqual({ total: 4, offset: 1, rows: rows(['b', 2], ['c', 3]) });
    expect(pageOf(all, 10, 2).rows).toEqual([]);
  });

  it('is undefined when nothing changed', () => {
    const p = pageOf(rows(['a', 1], ['b', 2]), 0, 10);
    expect(diffPage(p, pageOf(rows(['a', 1], ['b', 2]), 0, 10))).toBeUndefined();
  });

  it('sends changed rows only, removals, the order and the total', () => {
    const prev = pageOf(rows(['a', 1], ['b', 2], ['c', 3]), 0, 3);
    const next = pageOf(rows(['c', 3], ['a', 9], ['d', 4], ['e', 5]), 0, 3);
    const change = diffPage(prev, next)!;
    expect(change).toEqual({
      upsert: rows(['a', 9], ['d', 4]), remove: ['b'], order: ['c', 'a', 'd'], total: 4,
    });
    expect(applyChange(prev, change)).toEqual(next);
  });

  it('a snapshot plus every delta equals the table, over random changes', () => {
    let seed = 7;
    const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
    let table = new Map<string, number>();
    const view = (): Page<Row> => pageOf([...table].map(([key, v]) => ({ key, v })).sort((a, b) => b.v - a.v || (a.key < b.key ? -1 : 1)), 5, 20);
    let sent = view();
    let mirror = sent;
    for (let i = 0; i < 500; i++) {
      const k = `k${rand(60)}`;
      if (rand(4) === 0) table.delete(k); else table.set(k, rand(100));
      if (i % 50 === 49) table = new Map([...table].slice(rand(5)));
      const next = view();
      const change = diffPage(sent, next);
      if (change) mirror = applyChange(mirror, change);
      sent = next;
      expect(mirror).toEqual(next);
    }
  });
});
