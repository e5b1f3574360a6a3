/**
 * The cluster DNS in a network namespace the test creates: a node's DNS (the built one in dist/)
 * is told its pod CIDR before the bridge has the gateway address, starts serving once the address
 * appears, and busybox nslookup inside the namespace resolves a service through it, over UDP and
 * TCP. Needs root, nsenter, busybox and `npm run build`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { canRunE2e } from '../../helpers/cluster';
import { createNetns, type TestNetns } from '../../helpers/netns';
import { until } from '../../helpers/wait';

const ROOT = path.join(__dirname, '..', '..', '..');
const DIST_DNS = path.join(ROOT, 'dist', 'node-agent', 'dns', 'index.js');
const runnable = canRunE2e() && fs.existsSync('/usr/bin/busybox') && fs.existsSync(DIST_DNS);
const maybe = runnable ? describe : describe.skip;

// The child: a node's DNS over a fixed view of one ClusterIP and one headless service; it says
// "listening <port>" once its server is up, and stops cleanly on SIGTERM.
const CHILD = `
const { startNodeDns } = require(process.argv[1]);
const services = [
  { metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] } },
  { metadata: { name: 'db', namespace: 'prod' }, spec: { clusterIP: 'None' } },
];
const slices = [{ metadata: { name: 'db-1', namespace: 'prod', labels: { 'kubernetes.io/service-name': 'db' } }, addressType: 'IPv4',
  endpoints: [{ addresses: ['10.244.9.5'], hostname: 'db-0' }, { addresses: ['10.244.9.6'] }] }];
const source = {
  services: () => services,
  service: (ns, n) => services.find((s) => s.metadata.namespace === ns && s.metadata.name === n),
  slicesOf: (ns, s) => slices.filter((x) => x.metadata.namespace === ns && x.metadata.labels['kubernetes.io/service-name'] === s),
  onChange: () => () => undefined,
};
const log = { info() {}, debug() {}, warn(o, m) { console.error(m, JSON.stringify(o)); } };
const dns = startNodeDns({ source, log, upstreams: [], retry: { initialMs: 50, maxMs: 200 } });
dns.setPodCIDR('10.244.9.0/24');
console.log('waiting');
const t = setInterval(() => { const s = dns.server(); if (s) { clearInterval(t); console.log('listening ' + s.port); } }, 20);
process.on('SIGTERM', () => { clearInterval(t); dns.stop().then(() => process.exit(0)); });
`;

maybe('cluster DNS in a network namespace', () => {
  let ns: TestNetns;
  let child: ChildProcess | undefined;
  let out = '';

  beforeAll(async () => {
    ns = await createNetns('mkdns');
  });
  afterAll(async () => {
    if (child?.pid && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      process.kill(child.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000).unref())]);
      if (child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    }
    await ns?.destroy();
  });

  it('listens once the gateway address exists, and busybox nslookup resolves services through it', async () => {
    child = spawn('nsenter', [`--net=${ns.path}`, '--', process.execPath, '-e', CHILD, DIST_DNS], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    await until('the DNS to wait for its address', () => (out.includes('waiting') ? true : undefined), 20_000);
    expect(out).not.toContain('listening');
    // The bridge and its gateway address appear later, as with the node's first pod.
    for (const cmd of [['ip', 'link', 'add', 'mkdns0', 'type', 'bridge'], ['ip', 'addr', 'add', '10.244.9.1/24', 'dev', 'mkdns0'], ['ip', 'link', 'set', 'mkdns0', 'up']]) {
      const r = await ns.run(cmd);
      expect([cmd.join(' '), r.code, r.stderr]).toEqual([cmd.join(' '), 0, '']);
    }
    await until('the DNS to listen on 10.244.9.1', () => (out.includes('listening 53') ? true : undefined), 20_000);
    expect((await ns.run(['ss', '-Hlnu'])).stdout).toContain('10.244.9.1:53');
    expect((await ns.run(['ss', '-Hlnt'])).stdout).toContain('10.244.9.1:53');

    const web = await ns.run(['busybox', 'nslookup', 'web.default.svc.cluster.local', '10.244.9.1']);
    expect([web.code, web.stdout]).toEqual([0, expect.stringContaining('10.96.0.20')]);
    const db = await ns.run(['busybox', 'nslookup', 'db.prod.svc.cluster.local', '10.244.9.1']);
    expect(db.stdout).toContain('10.244.9.5');
    expect(db.stdout).toContain('10.244.9.6');
    const one = await ns.run(['busybox', 'nslookup', 'db-0.db.prod.svc.cluster.local', '10.244.9.1']);
    expect(one.stdout).toContain('10.244.9.5');
    const srv = await ns.run(['busybox', 'nslookup', '-type=SRV', '_http._tcp.web.default.svc.cluster.local', '10.244.9.1']);
    expect(srv.stdout).toMatch(/web\.default\.svc\.cluster\.local/);
    // Reverse lookups: a cluster IP names its service, a headless endpoint its host name.
    const ptr = await ns.run(['busybox', 'nslookup', '10.96.0.20', '10.244.9.1']);
    expect([ptr.code, ptr.stdout]).toEqual([0, expect.stringContaining('web.default.svc.cluster.local')]);
    const ptrEp = await ns.run(['busybox', 'nslookup', '10.244.9.5', '10.244.9.1']);
    expect(ptrEp.stdout).toContain('db-0.db.prod.svc.cluster.local');
    const missing = await ns.run(['busybox', 'nslookup', 'nope.default.svc.cluster.local', '10.244.9.1']);
    expect(missing.code).not.toBe(0);
    expect(missing.stdout + missing.stderr).toMatch(/NXDOMAIN/);
    // Outside names are refused: this node has no upstream, and nothing leaves the namespace.
    const outside = await ns.run(['busybox', 'nslookup', 'example.org', '10.244.9.1']);
    expect(outside.stdout + outside.stderr).toMatch(/REFUSED/);
  }, 60_000);

  it('stops on SIGTERM, leaving the port free', async () => {
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    process.kill(child!.pid!, 'SIGTERM');
    expect(await exited).toBe(0);
    expect((await ns.run(['ss', '-Hlnu'])).stdout).not.toContain('10.244.9.1:53');
    expect((await ns.run(['ss', '-Hlnt'])).stdout).not.toContain('10.244.9.1:53');
  }, 20_000);
});
