import { endpointAddressError, EndpointSliceSchema } from './endpoints';

const slice = (addressType: string, addresses: string[]) => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', namespace: 'default' },
  addressType, endpoints: [{ addresses }],
});

const issues = (v: unknown): string[] => {
  const r = EndpointSliceSchema.safeParse(v);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('EndpointSlice addresses', () => {
  it('accepts pod addresses of either family', () => {
    expect(issues(slice('IPv4', ['10.244.1.2', '192.168.0.9']))).toEqual([]);
    expect(issues(slice('IPv6', ['fd00::1', '2001:db8::a']))).toEqual([]);
    expect(issues(slice('FQDN', ['example.com']))).toEqual([]);
  });

  it('refuses addresses that would reach the node itself or its link, naming the field', () => {
    expect(issues(slice('IPv4', ['127.0.0.1']))).toEqual(['endpoints.0.addresses.0: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8)']);
    expect(issues(slice('IPv4', ['10.0.0.1', '169.254.169.254']))).toEqual(['endpoints.0.addresses.1: Invalid value: "169.254.169.254": may not be in the link-local range (169.254.0.0/16)']);
    expect(issues(slice('IPv4', ['0.0.0.0']))).toEqual(['endpoints.0.addresses.0: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0/8)']);
    expect(issues(slice('IPv4', ['239.1.1.1']))).toEqual(['endpoints.0.addresses.0: Invalid value: "239.1.1.1": may not be in the multicast range (224.0.0.0/4)']);
  });

  it('validates IPv6 slices: the form and the same ranges', () => {
    expect(issues(slice('IPv6', ['localhost']))).toEqual(['endpoints.0.addresses.0: Invalid value: "localhost": must be a valid IPv6 address']);
    expect(issues(slice('IPv6', ['10.0.0.1']))).toEqual(['endpoints.0.addresses.0: Invalid value: "10.0.0.1": must be a valid IPv6 address']);
    for (const [a, why] of [['::', 'unspecified'], ['::1', 'loopback'], ['0:0:0:0:0:0:0:1', 'loopback'], ['fe80::1', 'link-local'],
      ['FEBF::1', 'link-local'], ['ff02::1', 'multicast'], ['::ffff:127.0.0.1', 'loopback'], ['::ffff:a9fe:a9fe', 'link-local']]) {
      expect(endpointAddressError('IPv6', a)).toContain(why);
    }
    expect(endpointAddressError('IPv6', 'fec0::1')).toBeUndefined();
    expect(endpointAddressError('IPv6', '::ffff:10.0.0.1')).toBeUndefined();
  });
});
