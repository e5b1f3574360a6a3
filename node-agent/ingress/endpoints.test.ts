import { readyUpstreams } from './endpoints';
import { FakeServiceNetworkSource } from './fake-source';
import type { EndpointSliceView } from '../service-network/types';

describe('readyUpstreams', () => {
  it('dials the addresses of IPv4 slices only: never a name to resolve, nor an IPv6 slice', () => {
    const source = new FakeServiceNetworkSource();
    source.setService('default', 'web', [{ name: 'http', port: 80, targetPort: 8080 }], [{ ip: '10.244.1.2' }]);
    const extra = (addressType: EndpointSliceView['addressType'], address: string): EndpointSliceView => ({
      metadata: { name: `web-${addressType.toLowerCase()}`, namespace: 'default' },
      addressType, ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: [address] }],
    });
    const slices = [...source.slicesOf('default', 'web'), extra('FQDN', 'metadata.internal'), extra('IPv6', 'fd00::1')];
    const wrapped = Object.assign(Object.create(source) as FakeServiceNetworkSource, { slicesOf: () => slices });
    expect(readyUpstreams(wrapped, { namespace: 'default', service: 'web', port: { name: 'http' }, ingress: 'default/web' })).toEqual([{ host: '10.244.1.2', port: 8080 }]);
  });
});
