import { withExtendedResources } from './capacity';

describe('withExtendedResources', () => {
  it('adds the extended resources to capacity and allocatable', () => {
    const status = { capacity: { cpu: '2' }, allocatable: { cpu: '2' } };
    expect(withExtendedResources(status, { 'example.com/dongle': 4 })).toEqual({
      capacity: { cpu: '2', 'example.com/dongle': '4' }, allocatable: { cpu: '2', 'example.com/dongle': '4' },
    });
    expect(withExtendedResources(status, undefined)).toBe(status);
    expect(withExtendedResources(status, {})).toBe(status);
  });
});
