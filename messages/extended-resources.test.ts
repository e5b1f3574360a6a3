import { extendedResourceNameError, parseExtendedResources } from './extended-resources';

describe('--extended-resource NAME=COUNT', () => {
  it('parses every NAME=COUNT into whole counts', () => {
    expect(parseExtendedResources(['example.com/dongle=4', 'vendor.io/fpga=0'])).toEqual({ 'example.com/dongle': 4, 'vendor.io/fpga': 0 });
    expect(parseExtendedResources([])).toEqual({});
  });

  it.each([
    ['example.com/dongle', /expected NAME=COUNT/],
    ['dongle=1', /"dongle" is not an extended resource name/],
    ['kubernetes.io/dongle=1', /with a domain outside kubernetes.io/],
    ['node.kubernetes.io/x=1', /with a domain outside kubernetes.io/],
    ['example.com/bad name=1', /is not an extended resource name: the name part/],
    ['example.com/dongle=1.5', /the count "1.5" must be a whole number/],
    ['example.com/dongle=-1', /the count "-1" must be a whole number/],
    ['example.com/dongle=', /the count "" must be a whole number/],
  ])('refuses %s', (arg, msg) => {
    expect(() => parseExtendedResources([arg])).toThrow(msg);
  });

  it('refuses a name given twice', () => {
    expect(() => parseExtendedResources(['example.com/a=1', 'example.com/a=2'])).toThrow('--extended-resource: example.com/a is given twice');
  });

  it('knows extended resource names', () => {
    expect(extendedResourceNameError('nvidia.com/gpu')).toBeNull();
    expect(extendedResourceNameError('cpu')).toMatch(/not an extended resource name/);
  });
});
