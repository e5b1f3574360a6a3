import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  clusterCidrOf, controlPlaneSettingsArgs, controlPlaneSettingsFile, networkCidrsOf, readControlPlaneSettings, resolveControlPlaneSettings, settingsFromFlags,
  writeControlPlaneSettings,
} from '../../../embedded/control-plane-settings';
import { clusterPaths } from '../../../embedded/paths';

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-cp-settings-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

describe('mk up control plane settings', () => {
  it('takes the flags by their mk control-plane names and leaves out those not given', () => {
    expect(settingsFromFlags({
      'node-monitor-grace-period': '20s', 'cluster-cidr': '10.50.0.0/16', 'node-cidr-mask-size': undefined, nodes: 3, demo: true,
    })).toEqual({ nodeMonitorGracePeriodMs: '20s', clusterCidr: '10.50.0.0/16' });
  });

  it('keeps what was given, resumes it, and lets a later start change a duration', () => {
    const paths = clusterPaths(dir);
    const first = resolveControlPlaneSettings(paths, { nodeMonitorGracePeriodMs: '20s', defaultNotReadyTolerationSeconds: '30', clusterCidr: '10.50.0.0/16' }, false, {});
    writeControlPlaneSettings(paths, first);
    expect(fs.statSync(controlPlaneSettingsFile(paths)).mode & 0o777).toBe(0o600);
    expect(resolveControlPlaneSettings(paths, {}, true, {})).toEqual(first);
    const next = resolveControlPlaneSettings(paths, { nodeMonitorGracePeriodMs: '1m', clusterCidr: '10.50.0.0/16' }, true, {});
    expect(next).toEqual({ nodeMonitorGracePeriodMs: '1m', defaultNotReadyTolerationSeconds: '30', clusterCidr: '10.50.0.0/16' });
    expect(controlPlaneSettingsArgs(next)).toEqual([
      '--node-monitor-grace-period', '1m', '--default-not-ready-toleration-seconds', '30', '--cluster-cidr', '10.50.0.0/16',
    ]);
  });

  it.each([
    [{ nodeMonitorGracePeriodMs: 'soon' }, /mk up --node-monitor-grace-period: "soon" is not a duration/],
    [{ defaultUnreachableTolerationSeconds: '-5' }, /--default-unreachable-toleration-seconds: "-5" must be a whole number of seconds/],
    [{ defaultNotReadyTolerationSeconds: '1.5' }, /--default-not-ready-toleration-seconds: "1.5" must be a whole number/],
    [{ clusterCidr: '10.244.1.0/16' }, /--cluster-cidr: "10.244.1.0\/16" has host bits set/],
    [{ nodeCidrMaskSize: '16' }, /--node-cidr-mask-size: 16 must be longer than the cluster CIDR's prefix \/16/],
    [{ nodeCidrMaskSize: '33' }, /--node-cidr-mask-size: 33 must be a whole number from 1 to 32/],
    [{ clusterCidr: '10.0.0.0/8', nodeCidrMaskSize: '30' }, /--node-cidr-mask-size: 30 cuts a \/8 into 2\^22 node ranges/],
  ])('refuses %j naming the flag, and writes nothing', (given, message) => {
    const paths = clusterPaths(dir);
    expect(() => resolveControlPlaneSettings(paths, given, false, {})).toThrow(message);
    expect(fs.existsSync(controlPlaneSettingsFile(paths))).toBe(false);
  });

  it('refuses another pod CIDR setting for a cluster that exists, but not the same one again', () => {
    const paths = clusterPaths(dir);
    expect(() => resolveControlPlaneSettings(paths, { clusterCidr: '10.50.0.0/16' }, true, {}))
      .toThrow(/cuts its nodes' pod CIDRs with --cluster-cidr 10\.244\.0\.0\/16; it cannot change to 10\.50\.0\.0\/16/);
    expect(resolveControlPlaneSettings(paths, { clusterCidr: '10.244.0.0/16', nodeCidrMaskSize: '24' }, true, {}))
      .toEqual({ clusterCidr: '10.244.0.0/16', nodeCidrMaskSize: '24' });
    writeControlPlaneSettings(paths, { nodeCidrMaskSize: '26' });
    expect(() => resolveControlPlaneSettings(paths, { nodeCidrMaskSize: '24' }, true, {})).toThrow(/--node-cidr-mask-size 26; it cannot change to 24/);
  });

  it('checks the mask against a cluster CIDR from the environment, naming both', () => {
    const paths = clusterPaths(dir);
    expect(() => resolveControlPlaneSettings(paths, { nodeCidrMaskSize: '20' }, false, { MK_CLUSTER_CIDR: '10.9.0.0/24' }))
      .toThrow(/--node-cidr-mask-size: 20 must be longer .*cluster CIDR 10\.9\.0\.0\/24 from MK_CLUSTER_CIDR/);
  });

  it('gives the pod network from the setting, else the environment, else the default', () => {
    expect(clusterCidrOf({ clusterCidr: '10.50.0.0/16' }, { MK_CLUSTER_CIDR: '10.60.0.0/16' })).toBe('10.50.0.0/16');
    expect(clusterCidrOf({}, { MK_CLUSTER_CIDR: '10.60.0.0/16' })).toBe('10.60.0.0/16');
    expect(clusterCidrOf({}, {})).toBe('10.244.0.0/16');
  });

  it('gives the node both the pod network and the service CIDR by the same rules', () => {
    expect(networkCidrsOf({ serviceClusterIpRange: '10.100.0.0/16' }, { MK_CLUSTER_CIDR: '10.60.0.0/16', MK_SERVICE_CLUSTER_IP_RANGE: '10.200.0.0/16' }))
      .toEqual({ clusterCIDR: '10.60.0.0/16', serviceCIDR: '10.100.0.0/16' });
    expect(networkCidrsOf({}, {})).toEqual({ clusterCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12' });
  });

  it('refuses a kept file that is not what mk up writes', () => {
    const paths = clusterPaths(dir);
    fs.writeFileSync(controlPlaneSettingsFile(paths), '{"leaseSeconds": "5"}');
    expect(() => readControlPlaneSettings(paths)).toThrow(/"leaseSeconds" is not a setting mk up keeps/);
    fs.writeFileSync(controlPlaneSettingsFile(paths), 'nope');
    expect(() => readControlPlaneSettings(paths)).toThrow(/is not valid JSON/);
  });
});
