/**
 * mk control-plane's node lifecycle and pod CIDR flags through the built CLI: a bad value is an
 * error naming the flag, exit 1, before anything is read or started; a flag wins over its
 * environment variable.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureBuilt, runCli } from './run-cli';

jest.setTimeout(300_000);

describe('mk control-plane flags', () => {
  let dataDir: string;
  beforeAll(() => {
    ensureBuilt();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-cp-flags-'));
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const mk = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(['control-plane', '--data-dir', dataDir, ...args], { env });

  it.each([
    [['--node-monitor-grace-period', 'soon'], 'error: --node-monitor-grace-period: "soon" is not a duration (examples: 40s, 1m30s, 500ms)'],
    [['--default-not-ready-toleration-seconds', '-1'], 'error: --default-not-ready-toleration-seconds: "-1" must be a whole number of seconds, 0 or more'],
    [['--default-unreachable-toleration-seconds', '5m'], 'error: --default-unreachable-toleration-seconds: "5m" must be a whole number of seconds, 0 or more'],
    [['--cluster-cidr', 'fd00::/64'], 'error: --cluster-cidr: "fd00::/64" is not an IPv4 CIDR such as 10.244.0.0/16 (IPv6 is not supported)'],
    [['--cluster-cidr', '10.244.3.0/16'], 'error: --cluster-cidr: "10.244.3.0/16" has host bits set; did you mean 10.244.0.0/16?'],
    [['--node-cidr-mask-size', '16'], "error: --node-cidr-mask-size: 16 must be longer than the cluster CIDR's prefix /16, so that it holds more than one node range (cluster CIDR 10.244.0.0/16)"],
    [['--cluster-cidr', '10.0.0.0/8', '--node-cidr-mask-size', '28'], 'error: --node-cidr-mask-size: 28 cuts a /8 into 2^20 node ranges; at most 2^16 are allowed (use a mask of at most 24) (cluster CIDR 10.0.0.0/8 from --cluster-cidr)'],
    [['--service-cluster-ip-range', '10.96.0.0/30'], 'error: --service-cluster-ip-range: "10.96.0.0/30" is too small for services: use a prefix of at most /29'],
    [['--service-node-port-range', '32767-30000'], 'error: --service-node-port-range: "32767-30000" is not a port range such as 30000-32767 (first-last, within 1-65535)'],
  ])('refuses %j, naming the flag', async (args, message) => {
    const r = await mk(args);
    expect(r).toEqual({ code: 1, stdout: '', stderr: `${message}\n` });
  });

  it('takes a flag over its environment variable', async () => {
    // The variable alone is refused by name...
    const env = { MK_NODE_CIDR_MASK_SIZE: '8', MK_CLUSTER_CIDR: '10.9.0.0/16' };
    const bad = await mk([], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('MK_NODE_CIDR_MASK_SIZE: 8 must be longer than the cluster CIDR\'s prefix /16');
    // ...and not read when the flag is given: the settings pass, and what fails next is the missing cluster.
    const good = await mk(['--node-cidr-mask-size', '20'], env);
    expect(good.code).toBe(1);
    expect(good.stderr).not.toContain('MK_NODE_CIDR_MASK_SIZE');
    expect(good.stderr).not.toContain('--node-cidr-mask-size');
  });
});
