import { nodeDnsSettings } from './dns-settings';

describe('node DNS settings', () => {
  it('leaves everything to the node\'s defaults when nothing is set', () => {
    expect(nodeDnsSettings({}, {})).toEqual({});
  });

  it('reads flags first, then MK_CLUSTER_DOMAIN and MK_DNS_UPSTREAM', () => {
    const env = { MK_CLUSTER_DOMAIN: 'env.example', MK_DNS_UPSTREAM: '192.0.2.53,[2001:db8::1]:5353' };
    expect(nodeDnsSettings({}, env)).toEqual({
      domain: 'env.example', upstreams: [{ host: '192.0.2.53', port: 53 }, { host: '2001:db8::1', port: 5353 }],
    });
    expect(nodeDnsSettings({ clusterDomain: 'Corp.Example.', dnsUpstreams: ['127.0.0.1:5300'] }, env)).toEqual({
      domain: 'corp.example', upstreams: [{ host: '127.0.0.1', port: 5300 }],
    });
  });

  it('takes none as no upstream at all (outside names are refused)', () => {
    expect(nodeDnsSettings({ dnsUpstreams: ['none'] }, {})).toEqual({ upstreams: [] });
    expect(nodeDnsSettings({}, { MK_DNS_UPSTREAM: 'none' })).toEqual({ upstreams: [] });
  });

  it('refuses bad values, naming the flag or variable', () => {
    expect(() => nodeDnsSettings({ clusterDomain: 'bad_domain' }, {})).toThrow(/--cluster-domain: "bad_domain" is not a domain name/);
    expect(() => nodeDnsSettings({}, { MK_CLUSTER_DOMAIN: '-x' })).toThrow(/MK_CLUSTER_DOMAIN/);
    expect(() => nodeDnsSettings({ dnsUpstreams: ['dns.example:53'] }, {})).toThrow(/--dns-upstream: DNS upstream "dns.example:53" must be an IP address/);
    expect(() => nodeDnsSettings({ dnsUpstreams: ['192.0.2.1:70000'] }, {})).toThrow(/port must be 1 to 65535/);
    expect(() => nodeDnsSettings({}, { MK_DNS_UPSTREAM: 'none,192.0.2.1' })).toThrow(/MK_DNS_UPSTREAM: "none" cannot be combined/);
  });
});
