import { captureSubjects, covers, join, overlaps } from './capture';

describe('the subjects the trigger events stream captures', () => {
  it.each([
    ['a.b', 'a.b', true], ['a.*', 'a.b', true], ['a.b', 'a.*', false], ['a.>', 'a.b.c', true], ['a.>', 'a', false],
    ['a.*', 'a.b.c', false], ['a.*.c', 'a.b.*', false], ['a.>', 'a.*.>', true], ['a.*.>', 'a.>', false],
  ])('%s covers %s: %s', (a, b, want) => {
    expect(covers(a, b)).toBe(want);
  });

  it.each([
    ['a.*.c', 'a.b.*', true], ['a.b', 'a.c', false], ['a.>', 'a.b', true], ['a.>', 'a', false], ['a.*', 'a.b.c', false],
    ['orders.*', 'orders.new.eu', false], ['orders.>', 'orders.new.eu', true], ['x.y', 'x.y', true], ['a.b.>', 'a.*.c', true],
  ])('%s overlaps %s: %s', (a, b, want) => {
    expect(overlaps(a, b)).toBe(want);
    expect(overlaps(b, a)).toBe(want);
  });

  it('joins overlapping subjects into the narrowest cover of their shape', () => {
    expect(join('a.*.c', 'a.b.*')).toBe('a.*.*');
    expect(join('a.>', 'a.b')).toBe('a.>');
    expect(join('a.b.>', 'a.*.c.d')).toBe('a.*.>');
  });

  it('captures every subject with none overlapping, and keeps disjoint ones as they are', () => {
    const subjects = ['orders.created', 'orders.created', 'orders.*', 'a.*.c', 'a.b.*', 'users.x', 'a.b.c.d', 'a.*.c.>'];
    const got = captureSubjects(subjects);
    expect(got).toEqual(['a.*.*', 'a.*.c.>', 'orders.*', 'users.x'].sort());
    for (const s of subjects) expect(got.some((c) => covers(c, s))).toBe(true);
    for (const [i, a] of got.entries()) for (const b of got.slice(i + 1)) expect(overlaps(a, b)).toBe(false);
    expect(captureSubjects([])).toEqual([]);
  });
});
