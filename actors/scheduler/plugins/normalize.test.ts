import { defaultNormalize, minMaxNormalize } from './normalize';

describe('normalization', () => {
  it('scales to the highest, or reverses so the fewest scores 100', () => {
    expect(defaultNormalize([0, 5, 10], false)).toEqual([0, 50, 100]);
    expect(defaultNormalize([0, 5, 10], true)).toEqual([100, 50, 0]);
    expect(defaultNormalize([0, 0], false)).toEqual([0, 0]);
    expect(defaultNormalize([0, 0], true)).toEqual([100, 100]);
  });

  it('scales min..max to 0..100, all equal to 0', () => {
    expect(minMaxNormalize([-10, 0, 10])).toEqual([0, 50, 100]);
    expect(minMaxNormalize([3, 3])).toEqual([0, 0]);
  });
});
