import { specHash } from './spec-hash';

describe('specHash', () => {
  it('is the sha256 hex of the canonical JSON, the same whatever the key order', () => {
    const a = { startAt: 'A', states: { A: { type: 'Pass', end: true } } };
    const b = { states: { A: { end: true, type: 'Pass' } }, startAt: 'A' };
    expect(specHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(specHash(a)).toBe(specHash(b));
    expect(specHash({ ...a, startAt: 'B' })).not.toBe(specHash(a));
    // sha256 of the text {"a":1}
    expect(specHash({ a: 1 })).toBe('015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862');
  });
});
