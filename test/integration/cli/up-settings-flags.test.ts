/**
 * mk up's control plane settings through the built CLI: a bad value is an error naming the flag,
 * exit 1, with nothing written to the data directory; a pod CIDR setting other than the one an
 * existing cluster was made with is refused the same way.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { prepareClusterFiles } from '../../../embedded/credentials';
import { clusterPaths } from '../../../embedded/paths';
import { writeControlPlaneSettings } from '../../../embedded/control-plane-settings';
import { ensureBuilt, runCli } from './run-cli';

jest.setTimeout(300_000);

describe('mk up control plane settings flags', () => {
  let root: string;
  beforeAll(() => {
    ensureBuilt();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-up-flags-'));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it.each([
    [['--node-monitor-grace-period', 'soon'], 'error: mk up --node-monitor-grace-period: "soon" is not a duration (examples: 40s, 1m30s, 500ms)'],
    [['--default-not-ready-toleration-seconds', '-1'], 'error: mk up --default-not-ready-toleration-seconds: "-1" must be a whole number of seconds, 0 or more'],
    [['--default-unreachable-toleration-seconds', '5m'], 'error: mk up --default-unreachable-toleration-seconds: "5m" must be a whole number of seconds, 0 or more'],
    [['--cluster-cidr', '10.244.3.0/16'], 'error: mk up --cluster-cidr: "10.244.3.0/16" has host bits set; did you mean 10.244.0.0/16?'],
    [['--node-cidr-mask-size', '40'], 'error: mk up --node-cidr-mask-size: 40 must be a whole number from 1 to 32 (cluster CIDR 10.244.0.0/16)'],
    [['--node-cidr-mask-size', '16'], "error: mk up --node-cidr-mask-size: 16 must be longer than the cluster CIDR's prefix /16, so that it holds more than one node range (cluster CIDR 10.244.0.0/16)"],
  ])('refuses %j, naming the flag, and writes nothing', async (args, message) => {
    const home = path.join(root, `bad-${args[0].slice(2)}-${args[1]}`);
    const r = await runCli(['up', '--data-dir', home, '--no-demo', ...args]);
    expect(r).toEqual({ code: 1, stdout: '', stderr: `${message}\n` });
    expect(fs.existsSync(home)).toBe(false);
  });

  it('refuses another --cluster-cidr for a cluster that exists, and leaves its files as they were', async () => {
    const home = path.join(root, 'made');
    const paths = clusterPaths(home);
    prepareClusterFiles(paths, { nodeName: 'n1' });
    writeControlPlaneSettings(paths, { clusterCidr: '10.50.0.0/16', nodeMonitorGracePeriodMs: '20s' });
    const before = fs.readFileSync(path.join(home, 'control-plane-settings.json'), 'utf8');
    const r = await runCli(['up', '--data-dir', home, '--no-demo', '--cluster-cidr', '10.60.0.0/16']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: the cluster in ${home} cuts its nodes' pod CIDRs with --cluster-cidr 10.50.0.0/16; `
      + 'it cannot change to 10.60.0.0/16 (leave --cluster-cidr out, or start afresh with `mk down --purge`)\n');
    expect(fs.readFileSync(path.join(home, 'control-plane-settings.json'), 'utf8')).toBe(before);
    expect(fs.existsSync(path.join(home, 'run', 'up.pid'))).toBe(false);
  });
});

describe('mk up cluster DNS flags', () => {
  let root: string;
  beforeAll(() => {
    ensureBuilt();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-up-dns-flags-'));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it.each([
    [['--cluster-domain', 'no_such'], 'error: --cluster-domain: "no_such" is not a domain name'],
    [['--dns-upstream', '300.1.1.1'], 'error: --dns-upstream: DNS upstream "300.1.1.1" must be an IP address with an optional port'],
  ])('refuses %j, naming the flag, and writes nothing', async (args, message) => {
    const home = path.join(root, `bad-${args[0].slice(2)}`);
    const r = await runCli(['up', '--data-dir', home, '--no-demo', ...args]);
    expect([r.code, r.stdout]).toEqual([1, '']);
    expect(r.stderr.startsWith(message)).toBe(true);
    expect(fs.existsSync(home)).toBe(false);
  });
});

describe('mk up --ingress-proxy', () => {
  let root: string;
  beforeAll(() => {
    ensureBuilt();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-up-ingress-flags-'));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('refuses a proxy it does not know, from the flag or MK_INGRESS_PROXY, and writes nothing', async () => {
    const home = path.join(root, 'bad');
    expect(await runCli(['up', '--data-dir', home, '--no-demo', '--ingress-proxy', 'haproxy']))
      .toEqual({ code: 1, stdout: '', stderr: 'error: Expected --ingress-proxy=haproxy to be one of: nginx, builtin, auto\n' });
    expect(await runCli(['up', '--data-dir', home, '--no-demo'], { env: { MK_INGRESS_PROXY: 'haproxy' } }))
      .toEqual({ code: 1, stdout: '', stderr: 'error: MK_INGRESS_PROXY: "haproxy" is not one of nginx, builtin, auto\n' });
    expect(fs.existsSync(home)).toBe(false);
  });
});

describe('mk up --host-path-root', () => {
  let root: string;
  beforeAll(() => {
    ensureBuilt();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-up-host-path-flags-'));
  });
  afterAll(async () => {
    // Had a bad root been let through, a cluster would have started there: stop it before removing it.
    if (fs.existsSync(path.join(root, 'bad'))) await runCli(['down', '--data-dir', path.join(root, 'bad'), '--purge'], { timeoutMs: 60_000 });
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('refuses a relative root or one with a colon, from the flag or MK_HOST_PATH_ROOTS, and writes nothing', async () => {
    const home = path.join(root, 'bad');
    expect(await runCli(['up', '--data-dir', home, '--no-demo', '--host-path-root', 'srv/data']))
      .toEqual({ code: 1, stdout: '', stderr: 'error: --host-path-root: "srv/data" is not an absolute path\n' });
    expect(await runCli(['up', '--data-dir', home, '--no-demo', '--host-path-root', '/srv/a:b']))
      .toEqual({ code: 1, stdout: '', stderr: 'error: --host-path-root: "/srv/a:b" contains \':\', which separates the roots of MK_HOST_PATH_ROOTS\n' });
    expect(await runCli(['up', '--data-dir', home, '--no-demo'], { env: { MK_HOST_PATH_ROOTS: 'srv' } }))
      .toEqual({ code: 1, stdout: '', stderr: 'error: MK_HOST_PATH_ROOTS: "srv" is not an absolute path\n' });
    expect(fs.existsSync(home)).toBe(false);
  });

  it('refuses a --function-pool-size or MK_FUNCTION_POOL_SIZE outside 0..16, and writes nothing', async () => {
    const home = path.join(root, 'bad');
    expect(await runCli(['up', '--data-dir', home, '--no-demo', '--function-pool-size', '-1']))
      .toEqual({ code: 1, stdout: '', stderr: 'error: --function-pool-size must be an integer from 0 (no warm pool) to 16, not "-1"\n' });
    expect(await runCli(['up', '--data-dir', home, '--no-demo'], { env: { MK_FUNCTION_POOL_SIZE: '2.5' } }))
      .toEqual({ code: 1, stdout: '', stderr: 'error: MK_FUNCTION_POOL_SIZE must be an integer from 0 (no warm pool) to 16, not "2.5"\n' });
    expect(fs.existsSync(home)).toBe(false);
  });
});
