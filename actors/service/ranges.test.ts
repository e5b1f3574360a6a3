import { candidates, clusterIpRange, inRange, intToIp, ipToInt, nodePortRange, parsePortRange, parseServiceCidr } from './ranges';

describe('service ranges', () => {
  it('cuts the service CIDR and the node port range with a lower band for static choices', () => {
    const ips = clusterIpRange('10.96.0.0/12');
    expect(intToIp(ips.first)).toBe('10.96.0.1');
    expect(ips.size).toBe(2 ** 20 - 2);
    expect(ips.lowerBand).toBe(256);
    expect(inRange(ips, ipToInt('10.111.255.254')!)).toBe(true);
    expect(inRange(ips, ipToInt('10.112.0.0')!)).toBe(false);
    const ports = nodePortRange('30000-32767');
    expect(ports).toEqual({ first: 30000, size: 2768, lowerBand: 86 });
  });

  it('tries every number once, the upper band first', () => {
    const r = { first: 100, size: 10, lowerBand: 4 };
    const order = [...candidates(r, () => 0.5)];
    expect(order).toEqual([107, 108, 109, 100, 101, 102, 103, 104, 105, 106]);
    expect(new Set(order).size).toBe(10);
  });

  it('refuses bad ranges, naming the setting', () => {
    expect(() => parseServiceCidr('10.96.0.0/30', '--service-cluster-ip-range')).toThrow('--service-cluster-ip-range: "10.96.0.0/30" is too small');
    expect(() => parseServiceCidr('fd00::/108', 'x')).toThrow('IPv6 is not supported');
    expect(() => parsePortRange('32767-30000', '--service-node-port-range')).toThrow('is not a port range such as 30000-32767');
    expect(() => parsePortRange('1-70000', 'x')).toThrow('is not a port range');
    expect(parsePortRange('30000-30010', 'x')).toEqual({ first: 30000, last: 30010 });
  });
});
