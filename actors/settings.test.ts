import { isValidation } from '../messages';
import { DEFAULT_SETTINGS, parseDuration, parseSettingsFlags, resolveSettings } from './settings';

const caught = (fn: () => unknown): unknown => { try { fn(); } catch (e) { return e; } return undefined; };

describe('control plane settings', () => {
  it('parses Go-style durations and bare seconds', () => {
    expect(parseDuration('40s', 'x')).toBe(40_000);
    expect(parseDuration('1m30s', 'x')).toBe(90_000);
    expect(parseDuration('500ms', 'x')).toBe(500);
    expect(parseDuration('3', 'x')).toBe(3000);
  });

  it('refuses what is not a positive duration, naming the setting', () => {
    const e = caught(() => parseDuration('soon', 'MK_NODE_MONITOR_GRACE_PERIOD'));
    expect(isValidation(e)).toBe(true);
    expect(String(e)).toContain('MK_NODE_MONITOR_GRACE_PERIOD');
    expect(isValidation(caught(() => parseDuration('0s', 'x')))).toBe(true);
    expect(isValidation(caught(() => parseDuration('5s garbage', 'x')))).toBe(true);
  });

  it('takes options over the environment over the defaults', () => {
    expect(resolveSettings({}, {})).toEqual(DEFAULT_SETTINGS);
    const env = { MK_NODE_MONITOR_GRACE_PERIOD: '5s', MK_DEFAULT_NOT_READY_TOLERATION_SECONDS: '10', MK_DEFAULT_UNREACHABLE_TOLERATION_SECONDS: '0' };
    expect(resolveSettings({}, env)).toEqual({ ...DEFAULT_SETTINGS, nodeMonitorGracePeriodMs: 5000, defaultNotReadyTolerationSeconds: 10, defaultUnreachableTolerationSeconds: 0 });
    expect(resolveSettings({ nodeMonitorGracePeriodMs: 1000 }, env).nodeMonitorGracePeriodMs).toBe(1000);
    expect(isValidation(caught(() => resolveSettings({}, { MK_DEFAULT_NOT_READY_TOLERATION_SECONDS: '-1' })))).toBe(true);
  });

  it('takes the cluster CIDR and node mask size, flags over the environment', () => {
    const env = { MK_CLUSTER_CIDR: '10.0.0.0/8', MK_NODE_CIDR_MASK_SIZE: '20' };
    expect(resolveSettings({}, env)).toMatchObject({ clusterCidr: '10.0.0.0/8', nodeCidrMaskSize: 20 });
    const flags = parseSettingsFlags({ clusterCidr: '192.168.0.0/22', nodeCidrMaskSize: '24' });
    expect(resolveSettings(flags, env)).toMatchObject({ clusterCidr: '192.168.0.0/22', nodeCidrMaskSize: 24 });
  });

  it('takes the service CIDR and node port range, flags over the environment', () => {
    const env = { MK_SERVICE_CLUSTER_IP_RANGE: '172.20.0.0/16', MK_SERVICE_NODE_PORT_RANGE: '31000-31999' };
    expect(resolveSettings({}, env)).toMatchObject({ serviceClusterIpRange: '172.20.0.0/16', serviceNodePortRange: '31000-31999' });
    expect(resolveSettings({}, {})).toMatchObject({ serviceClusterIpRange: '10.96.0.0/12', serviceNodePortRange: '30000-32767' });
    const flags = parseSettingsFlags({ serviceClusterIpRange: '10.100.0.0/24', serviceNodePortRange: '30000-30100' });
    expect(resolveSettings(flags, env)).toMatchObject({ serviceClusterIpRange: '10.100.0.0/24', serviceNodePortRange: '30000-30100' });
    expect(() => resolveSettings({}, { MK_SERVICE_CLUSTER_IP_RANGE: '10.96.0.1/12' })).toThrow('MK_SERVICE_CLUSTER_IP_RANGE: "10.96.0.1/12" has host bits set');
    expect(() => parseSettingsFlags({ serviceNodePortRange: '80' })).toThrow('--service-node-port-range: "80" is not a port range');
  });

  it('refuses a bad cluster CIDR or mask size, naming the flag or variable', () => {
    const msg = (fn: () => unknown): string => { const e = caught(fn); expect(isValidation(e)).toBe(true); return String((e as Error).message); };
    expect(msg(() => parseSettingsFlags({ clusterCidr: 'fd00::/64' }))).toBe('--cluster-cidr: "fd00::/64" is not an IPv4 CIDR such as 10.244.0.0/16 (IPv6 is not supported)');
    expect(msg(() => parseSettingsFlags({ clusterCidr: '10.244.1.0/16' }))).toContain('did you mean 10.244.0.0/16?');
    expect(msg(() => parseSettingsFlags({ nodeCidrMaskSize: 'x' }))).toContain('--node-cidr-mask-size: "x"');
    expect(msg(() => parseSettingsFlags({ nodeMonitorGracePeriodMs: 'soon' }))).toContain('--node-monitor-grace-period: "soon" is not a duration');
    expect(msg(() => parseSettingsFlags({ defaultUnreachableTolerationSeconds: '-3' }))).toContain('--default-unreachable-toleration-seconds');
    expect(msg(() => resolveSettings(parseSettingsFlags({ nodeCidrMaskSize: '16' }), {})))
      .toBe("--node-cidr-mask-size: 16 must be longer than the cluster CIDR's prefix /16, so that it holds more than one node range (cluster CIDR 10.244.0.0/16)");
    expect(msg(() => resolveSettings({}, { MK_NODE_CIDR_MASK_SIZE: '8' }))).toContain('MK_NODE_CIDR_MASK_SIZE: 8 must be longer');
    expect(msg(() => resolveSettings({ clusterCidr: '10.0.0.0/8' }, { MK_NODE_CIDR_MASK_SIZE: '30' }))).toContain('2^22 node ranges; at most 2^16 are allowed');
    expect(msg(() => resolveSettings({}, { MK_CLUSTER_CIDR: '300.0.0.0/8' }))).toContain('MK_CLUSTER_CIDR: "300.0.0.0/8"');
  });
});
