/**
 * `mk top` (the built CLI) against a real control plane on a real nats-server. No node agent runs:
 * the test publishes usage reports as the fake node `fake-n1`. Pods and nodes are written straight
 * into the store. Checks the tables, the filters and the exit codes a script relies on.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectBus, ObjectStore, type Bus } from '../../../bus';
import { runControlPlane, type ControlPlane } from '../../../actors';
import { objectKey } from '../../../messages';
import { statsSubject, type NodeUsageReport, type PodUsage } from '../../../messages/usage';
import { startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';
import { ensureBuilt, runCli, type CliResult } from './run-cli';

jest.setTimeout(120_000);

const USER = 'admin';
const PASS = 'test-password-0123456789';
const MI = 2 ** 20;
let server: NatsServer;
let cp: ControlPlane;
let bus: Bus;
let store: ObjectStore;
let dataDir: string;
let reporting: NodeJS.Timeout | undefined;

const mk = (...args: string[]): Promise<CliResult> => runCli(args, { env: { MK_HOME: dataDir } });

const usage = (name: string, containers: [string, number, number][], namespace = 'default'): PodUsage => ({
  namespace, name, uid: `uid-${name}`,
  cpuNanoCores: containers.reduce((a, c) => a + c[1], 0), memoryBytes: containers.reduce((a, c) => a + c[2], 0),
  containers: containers.map(([c, cpu, mem]) => ({ name: c, cpuNanoCores: cpu, memoryBytes: mem })),
});

/** What the fake node reports, every 200 ms, until the test stops it. */
const fakeNodeReport = (): NodeUsageReport => ({
  node: 'fake-n1', timestamp: new Date().toISOString(), windowSeconds: 5,
  usage: { cpuNanoCores: 1.25e9, memoryBytes: 2048 * MI }, capacity: { cpuNanoCores: 4e9, memoryBytes: 8192 * MI },
  pods: [
    usage('busy', [['main', 980e6, 20 * MI], ['side', 2e6, 4 * MI]]),
    usage('idle', [['main', 0, 2 * MI]]),
    usage('dns', [['coredns', 3e6, 14 * MI]], 'kube-system'),
  ],
});

beforeAll(async () => {
  ensureBuilt();
  server = await startNatsServer({ user: USER, pass: PASS });
  cp = await runControlPlane({ bus: { servers: server.url, user: USER, pass: PASS, name: 'cp-top' } });
  await waitFor(() => cp.isLeader(), 'the control plane to lead');
  bus = await connectBus({ servers: server.url, user: USER, pass: PASS, name: 'fake-n1' });
  store = await ObjectStore.open(bus);
  for (const [ns, name, app] of [['default', 'busy', 'busy'], ['default', 'idle', 'idle'], ['kube-system', 'dns', 'dns'], ['quiet', 'waiting', 'w']]) {
    await store.create(objectKey('pods', ns, name), {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, uid: `uid-${name}`, labels: { app } }, spec: { containers: [{ name: 'main', image: 'busybox' }] },
    });
  }
  for (const n of ['fake-n1', 'fake-n2']) await store.create(objectKey('nodes', undefined, n), { apiVersion: 'v1', kind: 'Node', metadata: { name: n } });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-top-it-'));
  fs.writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ servers: [server.url], user: USER, pass: PASS, nodeName: 'fake-n1' }), { mode: 0o600 });
}, 300_000);

afterAll(async () => {
  clearInterval(reporting);
  await cp?.stop();
  await bus?.close();
  await server?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('mk top', () => {
  it('says metrics not available yet (exit 1) before any node reported', async () => {
    const r = await mk('top', 'pods');
    expect(r.stderr.trim()).toBe('error: metrics not available yet');
    expect(r.code).toBe(1);
    expect((await mk('top', 'nodes')).code).toBe(1);
  });

  it('prints pods and nodes once the fake node reports', async () => {
    reporting = setInterval(() => bus.nc.publish(statsSubject('fake-n1'), new TextEncoder().encode(JSON.stringify(fakeNodeReport()))), 200);
    const pods = await waitFor(async () => { const r = await mk('top', 'pods'); return r.code === 0 ? r : undefined; }, 'mk top pods to work', 30_000);
    expect(pods.stdout).toBe([
      'NAME   CPU(cores)   MEMORY(bytes)',
      'busy   982m         24Mi',
      'idle   0m           2Mi',
      '',
    ].join('\n'));
    const all = await mk('top', 'pod', '-A', '--sort-by', 'memory', '--no-headers');
    expect(all.stdout.split('\n').map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['default busy', 'kube-system dns', 'default idle', '']);
    const containers = await mk('top', 'pods', 'busy', '--containers');
    expect(containers.stdout).toMatch(/^POD\s+NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\nbusy\s+main\s+980m\s+20Mi\nbusy\s+side\s+2m\s+4Mi\n$/);
    expect((await mk('top', 'pods', '-l', 'app=idle', '--no-headers')).stdout).toMatch(/^idle\s+0m\s+2Mi\n$/);
    const nodes = await mk('top', 'nodes');
    expect(nodes.code).toBe(0);
    expect(nodes.stdout).toMatch(/^NAME\s+CPU\(cores\)\s+CPU%\s+MEMORY\(bytes\)\s+MEMORY%\nfake-n1\s+1250m\s+31%\s+2048Mi\s+25%\nfake-n2\s+<unknown>/);
    const json = JSON.parse((await mk('top', 'node', 'fake-n1', '-o', 'json')).stdout) as { kind: string; usage: { cpu: string } };
    expect(json).toMatchObject({ kind: 'NodeMetrics', usage: { cpu: '1250m' } });
  });

  it('exit codes a script can trust', async () => {
    const waiting = await mk('top', 'pods', 'waiting', '-n', 'quiet');
    expect([waiting.code, waiting.stderr.trim()]).toEqual([1, 'error: metrics not available yet']);
    const missing = await mk('top', 'pods', 'nosuch');
    expect([missing.code, missing.stderr.trim()]).toEqual([1, 'Error from server (NotFound): pods "nosuch" not found']);
    const none = await mk('top', 'pods', '-n', 'empty');
    expect([none.code, none.stdout, none.stderr.trim()]).toEqual([0, '', 'No resources found in empty namespace.']);
    const bad = await mk('top', 'pods', '-l', 'app in busy');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/invalid label selector "app in busy"/);
    const sort = await mk('top', 'pods', '--sort-by', 'name');
    expect(sort.code).not.toBe(0);
    expect(sort.stderr).toMatch(/--sort-by/);
  });
});
