/**
 * mk node-agent's --extended-resource and --gpu-dev-root through the built CLI: a bad name or
 * count is an error naming the flag, exit 1, before anything is read or started; so is a GPU
 * device root that is not a directory.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureBuilt, runCli } from './run-cli';

jest.setTimeout(300_000);

describe('mk node-agent --extended-resource', () => {
  let dataDir: string;
  beforeAll(() => {
    ensureBuilt();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-agent-flags-'));
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const mk = (args: string[]) => runCli(['node-agent', '--data-dir', dataDir, ...args]);

  it.each([
    [['--extended-resource', 'dongle=1'],
      'error: --extended-resource "dongle=1": "dongle" is not an extended resource name: it must be <domain>/<name>, '
      + 'with a domain outside kubernetes.io (example.com/dongle)'],
    [['--extended-resource', 'example.com/dongle=1.5'], 'error: --extended-resource "example.com/dongle=1.5": the count "1.5" must be a whole number, 0 or more'],
    [['--extended-resource', 'example.com/dongle'], 'error: --extended-resource "example.com/dongle": expected NAME=COUNT, such as example.com/dongle=4'],
    [['--extended-resource', 'example.com/a=1', '--extended-resource', 'example.com/a=2'], 'error: --extended-resource: example.com/a is given twice'],
  ])('refuses %j, naming the flag', async (args, message) => {
    expect(await mk(args)).toEqual({ code: 1, stdout: '', stderr: `${message}\n` });
  });

  it('takes good ones and goes on: what fails next is the missing cluster', async () => {
    const r = await mk(['--extended-resource', 'example.com/dongle=4', '--extended-resource', 'vendor.io/fpga=0']);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('--extended-resource');
  });

  it('refuses a --pod-network it does not know, naming the choices', async () => {
    expect(await mk(['--pod-network', 'udp'])).toEqual({ code: 1, stdout: '', stderr: 'error: Expected --pod-network=udp to be one of: host-gw, vxlan\n' });
  });

  it('refuses an --ingress-proxy it does not know, and a bad MK_INGRESS_PROXY, naming the choices', async () => {
    expect(await mk(['--ingress-proxy', 'haproxy'])).toEqual({ code: 1, stdout: '', stderr: 'error: Expected --ingress-proxy=haproxy to be one of: nginx, builtin, auto\n' });
    expect(await runCli(['node-agent', '--data-dir', dataDir], { env: { MK_INGRESS_PROXY: 'haproxy' } }))
      .toEqual({ code: 1, stdout: '', stderr: 'error: MK_INGRESS_PROXY: "haproxy" is not one of nginx, builtin, auto\n' });
  });

  it('refuses a --function-pool-size or MK_FUNCTION_POOL_SIZE outside 0..16, naming it', async () => {
    expect(await mk(['--function-pool-size', '17'])).toEqual({
      code: 1, stdout: '', stderr: 'error: --function-pool-size must be an integer from 0 (no warm pool) to 16, not "17"\n',
    });
    expect(await runCli(['node-agent', '--data-dir', dataDir], { env: { MK_FUNCTION_POOL_SIZE: 'many' } })).toEqual({
      code: 1, stdout: '', stderr: 'error: MK_FUNCTION_POOL_SIZE must be an integer from 0 (no warm pool) to 16, not "many"\n',
    });
    const r = await mk(['--function-pool-size', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('pool');
  });

  it('refuses a --gpu-dev-root that is not a directory, naming it', async () => {
    const missing = path.join(dataDir, 'no-such-dir');
    expect(await mk(['--gpu-dev-root', missing])).toEqual({ code: 1, stdout: '', stderr: `error: --gpu-dev-root: "${missing}" is not a directory\n` });
  });

  it('takes a --gpu-dev-root that is a directory and goes on to the missing cluster', async () => {
    const r = await mk(['--gpu-dev-root', dataDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('gpu-dev-root');
  });

  it.each([['0', /--ingress-port[\s\S]*greater than or equal to 1 but received: 0/], ['http', /--ingress-port[\s\S]*Expected an integer but received: http/]])(
    'refuses --ingress-port %s, naming the flag',
    async (value, message) => {
      const r = await mk(['--ingress-port', value]);
      expect(r).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(message) });
    },
  );
});

describe('mk node-agent --cluster-domain and --dns-upstream', () => {
  let dataDir: string;
  beforeAll(() => {
    ensureBuilt();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-agent-dns-flags-'));
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const mk = (args: string[]) => runCli(['node-agent', '--data-dir', dataDir, ...args]);

  it.each([
    [['--cluster-domain', 'bad_domain'], 'error: --cluster-domain: "bad_domain" is not a domain name'],
    [['--dns-upstream', 'dns.example'], 'error: --dns-upstream: DNS upstream "dns.example" must be an IP address with an optional port, such as 192.0.2.53:53'],
    [['--dns-upstream', 'none', '--dns-upstream', '192.0.2.1'], 'error: --dns-upstream: "none" cannot be combined with resolvers'],
  ])('refuses %j, naming the flag', async (args, message) => {
    const r = await mk(args);
    expect([r.code, r.stdout]).toEqual([1, '']);
    expect(r.stderr.startsWith(message)).toBe(true);
  });

  it('takes good ones and goes on: what fails next is the missing cluster', async () => {
    const r = await mk(['--cluster-domain', 'corp.example', '--dns-upstream', '127.0.0.1:5353']);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/cluster-domain|dns-upstream/);
  });
});
