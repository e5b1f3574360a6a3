import { FailureBackoff } from './failure-backoff';

describe('FailureBackoff', () => {
  it('doubles from 1 s per failure of a key up to a minute, and starts over once forgotten', () => {
    const b = new FailureBackoff();
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(() => b.failed('a'))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(b.failed('b')).toBe(1_000);
    b.forget('a');
    expect(b.failed('a')).toBe(1_000);
  });
});
