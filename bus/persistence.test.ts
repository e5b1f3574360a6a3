import { keyToken } from './persistence';

describe('keyToken', () => {
  it('makes any persistence key one safe subject token, distinct per key', () => {
    const keys = ['workflow/default/run-1', 'a.b', 'a_b', 'with space', 'ünïcode', '>', '*'];
    const tokens = keys.map(keyToken);
    for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(new Set(tokens).size).toBe(keys.length);
  });
});
