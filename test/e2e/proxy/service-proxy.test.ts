/**
 * The service proxy end to end, as root, in network namespaces this test creates: a "node" with a
 * bridge (10.244.1.1/24), three backend "pods" and a client pod on it, each a namespace with a
 * veth on the bridge, and an "outside" host on a veth of its own. Services and EndpointSlices are
 * written into a real nats-server's objects bucket; the proxy follows them and programs the node's
 * namespace through `nsenter --net`. Real TCP connections check what the rules do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectBus, ObjectStore, type Bus } from '../../../bus';
import { setLogLevel } from '../../../common/log';
import { objectKey } from '../../../messages';
import { endpointChain, serviceChains, startServiceProxy, type ServiceProxy } from '../../../node-agent/proxy';
import { watchServiceNetwork, type ServiceNetworkView } from '../../../node-agent/service-network/view';
import { startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { createNetns, runInNetns, type TestNetns } from '../../helpers/netns';
import { until } from '../../helpers/wait';

const ROOT = path.join(__dirname, '..', '..', '..');
const unavailable = process.getuid?.() !== 0 ? 'not root'
  : !['/usr/sbin/iptables-restore', '/usr/bin/nsenter'].every(existsSync) ? 'iptables-restore or nsenter missing' : undefined;
if (unavailable) console.warn(`skipping service proxy e2e test: ${unavailable}`);
const describeMaybe = unavailable ? describe.skip : describe;

jest.setTimeout(120_000);

/** An HTTP server answering its own name (on /from: the client's address), in its namespace. */
const SERVER = `const name = process.argv[1];
const udp = require('dgram').createSocket('udp4');
udp.on('message', (m, r) => udp.send(name, r.port, r.address)).bind(5353);
require('http').createServer((q, s) => s.end(q.url === '/from' ? q.socket.remoteAddress.replace('::ffff:', '') : name))
  .listen(8080, () => console.log('listening'));`;

/** One UDP datagram from a fixed source port (so conntrack keeps one flow); prints the answer. */
const UDP_CLIENT = `const s = require('dgram').createSocket('udp4');
const [host, port] = process.argv.slice(1);
const t = setTimeout(() => { console.log('timeout'); process.exit(0); }, 1000);
s.on('message', (m) => { clearTimeout(t); console.log(String(m)); process.exit(0); });
s.bind(40000, () => s.send('hi', Number(port), host));`;

/** `n` requests on fresh connections; prints {counts, errors}. */
const CLIENT = `const http = require('http');
const [url, n] = process.argv.slice(1);
(async () => {
  const counts = {}; const errors = [];
  for (let i = 0; i < Number(n); i++) {
    const t0 = Date.now();
    await new Promise((res) => {
      const req = http.get(url, { agent: false, timeout: 3000 }, (r) => {
        let b = ''; r.on('data', (d) => { b += d; }); r.on('end', () => { counts[b] = (counts[b] || 0) + 1; res(); });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', (e) => { errors.push({ code: e.code || e.message, ms: Date.now() - t0 }); res(); });
    });
  }
  console.log(JSON.stringify({ counts, errors }));
})();`;

interface Hits { counts: Record<string, number>; errors: { code: string; ms: number }[] }

const BACKENDS = ['p1', 'p2', 'p3'] as const;
const ip = (pod: string): string => ({ p1: '10.244.1.11', p2: '10.244.1.12', p3: '10.244.1.13', c: '10.244.1.20' })[pod]!;
const WEB = '10.96.0.10';
const SOLO = '10.96.0.11';
const EMPTY = '10.96.0.12';

let nats: NatsServer;
let bus: Bus;
let objects: ObjectStore;
let node: TestNetns;
let outside: TestNetns;
const pods = new Map<string, TestNetns>();
const children: ChildProcess[] = [];
let view: ServiceNetworkView | undefined;
let proxy: ServiceProxy | undefined;
let bundleDir: string | undefined;

async function sh(ns: TestNetns, cmd: string[]): Promise<string> {
  const r = await ns.run(cmd);
  if (r.code !== 0) throw new Error(`${cmd.join(' ')} in ${ns.name}: ${r.stderr}`);
  return r.stdout;
}

async function hits(from: TestNetns, url: string, n: number): Promise<Hits> {
  const r = await runInNetns(from.path, [process.execPath, '-e', CLIENT, url, String(n)], 60_000);
  if (r.code !== 0) throw new Error(`client failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Hits;
}

const save = async (): Promise<string> => sh(node, ['iptables-save']);
const mkChains = async (): Promise<string[]> => (await save()).split('\n').filter((l) => l.startsWith(':MK-')).map((l) => l.slice(1).split(' ')[0]);

/** The answer of a UDP service to pod c (from its port 40000). */
const udpAsk = async (host: string, port: number): Promise<string> =>
  (await runInNetns(pods.get('c')!.path, [process.execPath, '-e', UDP_CLIENT, host, String(port)], 10_000)).stdout.trim();

/** Waits until the node's iptables-save satisfies `ok`. */
const rulesUntil = (what: string, ok: (s: string) => boolean): Promise<string> => until(what, async () => {
  const s = await save();
  return ok(s) ? s : undefined;
}, 15_000, 50);

const service = (name: string, clusterIP: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
  spec: { type: 'ClusterIP', clusterIP, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...extra },
});
const slice = (service: string, backends: string[]) => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
  metadata: { name: `${service}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
  endpoints: backends.map((b) => ({ addresses: [ip(b)], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n1' })),
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
});
const putService = (name: string, obj: object) => objects.put(objectKey('services', 'default', name), obj);
const putSlice = (svc: string, backends: string[]) => objects.put(objectKey('endpointslices', 'default', `${svc}-1`), slice(svc, backends));
const sepOf = (svc: string, pod: string) => endpointChain(`default/${svc}:http/TCP`, `${ip(pod)}:8080`);
const log = { info: () => undefined, warn: (o: object, m: string) => console.warn(m, JSON.stringify(o)) };

async function startInProcess(): Promise<void> {
  const store = await ObjectStore.open(bus, { create: false });
  view = await watchServiceNetwork({ store, log });
  proxy = await startServiceProxy({
    source: view, log, prefix: ['nsenter', `--net=${node.path}`, '--'], minSyncIntervalMs: 50, metrics: false, jumpCheckMs: 200,
    node: { name: 'n1', clusterCIDR: '10.244.0.0/16', podCIDR: '10.244.1.0/24' },
  });
}

async function stopInProcess(cleanup: boolean): Promise<void> {
  await proxy?.stop({ cleanup });
  await view?.stop();
  proxy = undefined;
  view = undefined;
}

/** The proxy as a child process (test/e2e/proxy/proxy-child.ts bundled with esbuild), once ready. */
async function startChild(): Promise<ChildProcess> {
  if (!bundleDir) {
    bundleDir = mkdtempSync(path.join(os.tmpdir(), 'mk-proxy-child-'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof import('esbuild');
    esbuild.buildSync({
      entryPoints: [path.join(__dirname, 'proxy-child.ts')], outfile: path.join(bundleDir, 'child.js'),
      bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', logLevel: 'warning',
    });
  }
  const child = spawn(process.execPath, [path.join(bundleDir, 'child.js'), nats.url, node.path, 'n1', '10.244.1.0/24'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') },
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the proxy child did not get ready: ${err}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) { clearTimeout(timer); resolve(); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the proxy child exited (${code}): ${err}`)); });
  });
  return child;
}

const exited = (c: ChildProcess): Promise<void> => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', () => r())));

async function podNs(name: string): Promise<TestNetns> {
  const ns = await createNetns(`mkpx-${name}`);
  pods.set(name, ns);
  const veth = `v${name}`;
  await sh(node, ['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name]);
  await sh(node, ['ip', 'link', 'set', veth, 'master', 'mkbr0', 'up']);
  // As the CNI bridge plugin's hairpinMode sets it: a frame may leave by the port it came in.
  await sh(node, ['ip', 'link', 'set', veth, 'type', 'bridge_slave', 'hairpin', 'on']);
  await sh(ns, ['ip', 'addr', 'add', `${ip(name)}/24`, 'dev', 'eth0']);
  await sh(ns, ['ip', 'link', 'set', 'eth0', 'up']);
  await sh(ns, ['ip', 'route', 'add', 'default', 'via', '10.244.1.1']);
  return ns;
}

async function serve(name: string, ns: TestNetns): Promise<void> {
  const child = spawn('nsenter', [`--net=${ns.path}`, '--', process.execPath, '-e', SERVER, name], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server ${name} did not listen`)), 15_000);
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('listening')) { clearTimeout(timer); resolve(); } });
  });
}

describeMaybe('the service proxy in a network namespace', () => {
  beforeAll(async () => {
    setLogLevel('silent');
    nats = await startNatsServer();
    bus = await connectBus({ servers: nats.url, name: 'proxy-e2e' });
    objects = await ObjectStore.open(bus);
    node = await createNetns('mkpx-node');
    outside = await createNetns('mkpx-out');
    await sh(node, ['ip', 'link', 'add', 'mkbr0', 'type', 'bridge']);
    await sh(node, ['ip', 'addr', 'add', '10.244.1.1/24', 'dev', 'mkbr0']);
    await sh(node, ['ip', 'link', 'set', 'mkbr0', 'up']);
    await sh(node, ['sysctl', '-w', 'net.ipv4.ip_forward=1']);
    // The proxy must turn it on itself.
    await sh(node, ['sysctl', '-w', 'net.bridge.bridge-nf-call-iptables=0']);
    await sh(node, ['ip', 'link', 'add', 'vout', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outside.name]);
    await sh(node, ['ip', 'addr', 'add', '192.168.77.1/30', 'dev', 'vout']);
    await sh(node, ['ip', 'link', 'set', 'vout', 'up']);
    await sh(node, ['ip', 'route', 'add', 'default', 'via', '192.168.77.2']);
    await sh(outside, ['ip', 'addr', 'add', '192.168.77.2/30', 'dev', 'eth0']);
    await sh(outside, ['ip', 'link', 'set', 'eth0', 'up']);
    for (const p of [...BACKENDS, 'c']) await podNs(p);
    for (const p of BACKENDS) await serve(p, pods.get(p)!);
    // The pod network's own chain (node-agent/network/routes.ts) is first in POSTROUTING already.
    await sh(node, ['iptables', '-t', 'nat', '-N', 'MK-POD-NETWORK']);
    await sh(node, ['iptables', '-t', 'nat', '-A', 'MK-POD-NETWORK', '-s', '10.244.1.0/24', '-d', '10.244.2.0/24', '-j', 'ACCEPT']);
    await sh(node, ['iptables', '-t', 'nat', '-I', 'POSTROUTING', '1', '-j', 'MK-POD-NETWORK']);

    await putService('web', service('web', WEB));
    await putSlice('web', [...BACKENDS]);
    await putService('solo', service('solo', SOLO));
    await putSlice('solo', ['p1']);
    await putService('empty', service('empty', EMPTY));
    await startInProcess();
  });

  afterAll(async () => {
    await stopInProcess(true).catch(() => undefined);
    for (const c of children) if (c.pid && c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGKILL');
    await Promise.all(children.map(exited));
    for (const ns of [...pods.values(), outside, node]) await ns?.destroy();
    await bus?.close();
    await nats?.stop();
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
    setLogLevel('info');
  });

  it('turns bridge netfilter on in the node namespace and masquerades before the pod network chain', async () => {
    expect((await sh(node, ['sysctl', '-n', 'net.bridge.bridge-nf-call-iptables'])).trim()).toBe('1');
    const postrouting = (await sh(node, ['iptables', '-t', 'nat', '-S', 'POSTROUTING'])).split('\n').filter((l) => l.startsWith('-A'));
    expect(postrouting[0]).toMatch(/-j MK-POSTROUTING$/);
    expect(postrouting.filter((l) => l.endsWith('-j MK-POD-NETWORK'))).toHaveLength(1);
    // Another rule put first later (the pod network's, when a second node appears) is passed again.
    await sh(node, ['iptables', '-t', 'nat', '-I', 'POSTROUTING', '1', '-j', 'MK-POD-NETWORK']);
    await until('MK-POSTROUTING first again', async () => {
      const first = (await sh(node, ['iptables', '-t', 'nat', '-S', 'POSTROUTING'])).split('\n').find((l) => l.startsWith('-A'));
      return first?.endsWith('-j MK-POSTROUTING') || undefined;
    }, 10_000, 50);
    await sh(node, ['iptables', '-t', 'nat', '-D', 'POSTROUTING', '-j', 'MK-POD-NETWORK']);
  });

  it('spreads a cluster IP over every backend, from a pod on the same bridge and from the node', async () => {
    const fromPod = await hits(pods.get('c')!, `http://${WEB}/`, 60);
    expect(fromPod.errors).toEqual([]);
    expect(Object.keys(fromPod.counts).sort()).toEqual([...BACKENDS]);
    const fromNode = await hits(node, `http://${WEB}/`, 10);
    expect(fromNode.errors).toEqual([]);
    expect(Object.values(fromNode.counts).reduce((a, b) => a + b, 0)).toBe(10);
  });

  it('lets a backend reach itself through its service (hairpin)', async () => {
    const self = await hits(pods.get('p1')!, `http://${SOLO}/`, 5);
    expect(self).toEqual({ counts: { p1: 5 }, errors: [] });
  });

  it('answers a NodePort from another host', async () => {
    await putService('web', service('web', WEB, { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }] }));
    await rulesUntil('the node port rule', (s) => s.includes('--dport 30080'));
    const r = await hits(outside, 'http://192.168.77.1:30080/', 30);
    expect(r.errors).toEqual([]);
    expect(Object.keys(r.counts).every((k) => (BACKENDS as readonly string[]).includes(k))).toBe(true);
    expect(Object.keys(r.counts).length).toBeGreaterThan(1);
  });

  it('keeps a client on one backend with ClientIP affinity', async () => {
    await putService('sticky', service('sticky', '10.96.0.14', { sessionAffinity: 'ClientIP' }));
    await putSlice('sticky', [...BACKENDS]);
    await rulesUntil('the affinity rules', (s) => s.includes('--rcheck'));
    const r = await hits(pods.get('c')!, 'http://10.96.0.14/', 20);
    expect(r.errors).toEqual([]);
    expect(Object.values(r.counts)).toEqual([20]);
  });

  it('masquerades NodePort traffic, but keeps the client address with externalTrafficPolicy Local', async () => {
    expect(await hits(outside, 'http://192.168.77.1:30080/from', 5)).toEqual({ counts: { '10.244.1.1': 5 }, errors: [] });
    await putService('local', service('local', '10.96.0.15', {
      type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30081, protocol: 'TCP' }],
    }));
    await putSlice('local', ['p2']);
    await rulesUntil('the Local node port', (s) => s.includes('--dport 30081'));
    expect(await hits(outside, 'http://192.168.77.1:30081/from', 5)).toEqual({ counts: { '192.168.77.2': 5 }, errors: [] });
  });

  it('opens a LoadBalancer service on its external IP and on the node\'s own addresses', async () => {
    await sh(outside, ['ip', 'route', 'add', '198.51.100.7/32', 'via', '192.168.77.1']);
    await putService('lb', service('lb', '10.96.0.16', {
      type: 'LoadBalancer', externalIPs: ['198.51.100.7'], ports: [{ name: 'http', port: 8081, targetPort: 8080, nodePort: 30082, protocol: 'TCP' }],
    }));
    await putSlice('lb', ['p3']);
    await rulesUntil('the load balancer rules', (s) => s.includes('--dport 8081'));
    for (const url of ['http://198.51.100.7:8081/', 'http://192.168.77.1:8081/', 'http://192.168.77.1:30082/']) {
      expect(await hits(outside, url, 3)).toEqual({ counts: { p3: 3 }, errors: [] });
    }
  });

  it('moves a UDP flow off an endpoint that went away (conntrack)', async () => {
    const conntrack = existsSync('/usr/sbin/conntrack');
    if (!conntrack) console.warn('conntrack is not installed: the UDP flow check is skipped');
    const udpSvc = { ports: [{ name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' }] };
    const udpSlice = (b: string) => ({
      ...slice('dns', [b]), ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }],
    });
    await putService('dns', service('dns', '10.96.0.17', udpSvc));
    await objects.put(objectKey('endpointslices', 'default', 'dns-1'), udpSlice('p1'));
    await rulesUntil('the UDP service', (s) => s.includes('-d 10.96.0.17/32 -p udp'));
    expect(await udpAsk('10.96.0.17', 53)).toBe('p1');
    if (!conntrack) return;
    await objects.put(objectKey('endpointslices', 'default', 'dns-1'), udpSlice('p2'));
    // The same flow (same source port, asked again and again) reaches p2 only once its
    // conntrack entry to p1 is gone: each datagram would otherwise keep that entry alive.
    await until('the UDP flow on p2', async () => ((await udpAsk('10.96.0.17', 53)) === 'p2' ? true : undefined), 10_000, 100);
  });

  it('stops sending traffic to a removed endpoint', async () => {
    await putSlice('web', ['p1', 'p2']);
    await rulesUntil('p3 out of the rotation', (s) => !s.includes(sepOf('web', 'p3')));
    const r = await hits(pods.get('c')!, `http://${WEB}/`, 60);
    expect(r.errors).toEqual([]);
    expect(Object.keys(r.counts).sort()).toEqual(['p1', 'p2']);
  });

  it('refuses connections to a service without endpoints at once', async () => {
    for (const from of [pods.get('c')!, node]) {
      const r = await hits(from, `http://${EMPTY}/`, 3);
      expect(r.counts).toEqual({});
      // Refused (a reset), not dropped: a dropped SYN would end in a timeout, not ECONNREFUSED.
      expect(r.errors.map((e) => e.code)).toEqual(['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED']);
    }
  });

  it('needs bridge netfilter for a pod reaching a backend on its own bridge (the proxy turned it on)', async () => {
    await sh(node, ['sysctl', '-w', 'net.bridge.bridge-nf-call-iptables=0']);
    try {
      const r = await hits(pods.get('c')!, `http://${SOLO}/`, 1);
      expect(r.counts).toEqual({});
      expect(r.errors).toHaveLength(1);
    } finally {
      await sh(node, ['sysctl', '-w', 'net.bridge.bridge-nf-call-iptables=1']);
    }
    expect(await hits(pods.get('c')!, `http://${SOLO}/`, 3)).toEqual({ counts: { p1: 3 }, errors: [] });
  });

  it('converges after being SIGKILLed and started again', async () => {
    await stopInProcess(false);
    const first = await startChild();
    process.kill(first.pid!, 'SIGKILL');
    await exited(first);
    // While no proxy runs: p2 leaves web, solo goes away, a new service comes.
    await putSlice('web', ['p1']);
    await objects.delete(objectKey('services', 'default', 'solo'));
    await objects.delete(objectKey('endpointslices', 'default', 'solo-1'));
    await putService('late', service('late', '10.96.0.13'));
    await putSlice('late', ['p3']);
    const before = await mkChains();
    expect(before).toContain(sepOf('web', 'p2'));
    expect(before).toContain(serviceChains('default/solo:http/TCP').svc);

    const second = await startChild();
    const chains = await mkChains();
    expect(chains).not.toContain(sepOf('web', 'p2'));
    expect(chains).not.toContain(sepOf('solo', 'p1'));
    expect(chains).not.toContain(serviceChains('default/solo:http/TCP').svc);
    expect(await hits(pods.get('c')!, `http://${WEB}/`, 10)).toEqual({ counts: { p1: 10 }, errors: [] });
    expect(await hits(pods.get('c')!, 'http://10.96.0.13/', 3)).toEqual({ counts: { p3: 3 }, errors: [] });
    // One copy of each jump, whatever the restarts.
    const jumps = (await save()).split('\n').filter((l) => /^-A (PREROUTING|OUTPUT|POSTROUTING|INPUT|FORWARD) .*-j MK-(SERVICES|POSTROUTING|EXTERNAL-SERVICES|FORWARD)$/.test(l));
    expect(jumps).toHaveLength(8);

    // Shutdown removes everything it made and nothing else.
    process.kill(second.pid!, 'SIGTERM');
    await exited(second);
    expect(second.exitCode).toBe(0);
    expect(await mkChains()).toEqual(['MK-POD-NETWORK']);
    const left = await save();
    expect(left).not.toMatch(/-j MK-(SERVICES|POSTROUTING|EXTERNAL-SERVICES|FORWARD|NODEPORTS)\b/);
    expect(left).toContain('-A POSTROUTING -j MK-POD-NETWORK');
  });
});
