import { age, humanDuration, rfc1123z } from '../../../messages/printing/time';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

describe('humanDuration (kubectl AGE)', () => {
  it.each([
    [-5 * s, '<invalid>'],
    [-1500, '0s'],
    [0, '0s'],
    [5 * s, '5s'],
    [119 * s, '119s'],
    [2 * m, '2m'],
    [3 * m + 2 * s, '3m2s'],
    [9 * m + 59 * s, '9m59s'],
    [10 * m + 30 * s, '10m'],
    [179 * m, '179m'],
    [3 * h, '3h'],
    [5 * h + 3 * m, '5h3m'],
    [8 * h + 30 * m, '8h'],
    [47 * h, '47h'],
    [2 * d, '2d'],
    [2 * d + 3 * h, '2d3h'],
    [7 * d + 23 * h, '7d23h'],
    [8 * d + 5 * h, '8d'],
    [400 * d, '400d'],
    [2 * 365 * d, '2y'],
    [2 * 365 * d + 15 * d, '2y15d'],
    [9 * 365 * d, '9y'],
  ])('%d ms -> %s', (ms, want) => {
    expect(humanDuration(ms)).toBe(want);
  });

  it('ages a timestamp, <unknown> when absent or malformed', () => {
    const now = Date.parse('2024-05-01T12:00:00Z');
    expect(age('2024-05-01T11:56:58Z', now)).toBe('3m2s');
    expect(age(undefined, now)).toBe('<unknown>');
    expect(age('yesterday', now)).toBe('<unknown>');
  });
});

describe('rfc1123z', () => {
  it('formats like Go time.RFC1123Z', () => {
    expect(rfc1123z('2024-01-02T03:04:05Z', 'UTC')).toBe('Tue, 02 Jan 2024 03:04:05 +0000');
    expect(rfc1123z(undefined)).toBe('<unknown>');
  });
});
