import { median, percentile, round, spread, summary } from './stats';

describe('benchmark statistics', () => {
  it('percentile is nearest-rank over the sorted samples', () => {
    const xs = [5, 1, 4, 2, 3];
    expect(percentile(xs, 50)).toBe(3);
    expect(percentile(xs, 99)).toBe(5);
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile([], 50)).toBeNaN();
  });

  it('median averages the two middle samples of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([])).toBeNaN();
  });

  it('summary rounds p50 and p99 to 0.1 ms and counts the samples', () => {
    expect(summary([1.04, 2.06, 3.01])).toEqual({ p50: 2.1, p99: 3, n: 3 });
  });

  it('spread gives min, median and max of ratios', () => {
    expect(spread([1.234, 0.9, 1.1])).toEqual({ min: 0.9, median: 1.1, max: 1.23 });
    expect(round(1.23456, 3)).toBe(1.235);
  });
});
