/**
 * `mk actors` (the built CLI) against a real control plane (in this process, so its actor feed
 * publishes this process's trees) on a real nats-server: the pods' actors with the objects they
 * keep, system actors only with --system, JSON for scripts, and a clear error for a process that
 * does not answer.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectBus, ObjectStore, type Bus } from '../../../bus';
import { runControlPlane, type ControlPlane } from '../../../actors';
import { objectKey } from '../../../messages';
import { startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';
import { until } from '../../helpers/wait';
import { ensureBuilt, runCli, type CliResult } from './run-cli';

jest.setTimeout(120_000);

const USER = 'admin';
const PASS = 'test-password-0123456789';
let server: NatsServer;
let cp: ControlPlane;
let bus: Bus;
let dataDir: string;

const mk = (...args: string[]): Promise<CliResult> => runCli(args, { env: { MK_HOME: dataDir } });

interface Tree { process: string; self: { pid: number }; actors: { path: string; kind: string; system: boolean; object?: { kind: string; namespace?: string; name: string } }[] }

beforeAll(async () => {
  ensureBuilt();
  server = await startNatsServer({ user: USER, pass: PASS });
  cp = await runControlPlane({ bus: { servers: server.url, user: USER, pass: PASS, name: 'cp-actors' } });
  await waitFor(() => cp.isLeader(), 'the control plane to lead');
  bus = await connectBus({ servers: server.url, user: USER, pass: PASS, name: 'actors-test' });
  const store = await ObjectStore.open(bus);
  for (const name of ['alpha', 'beta']) {
    await store.create(objectKey('pods', 'default', name), {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}` }, spec: { containers: [{ name: 'main', image: 'busybox' }] },
    });
  }
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-actors-it-'));
  fs.writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ servers: [server.url], user: USER, pass: PASS, nodeName: 'n1' }), { mode: 0o600 });
}, 300_000);

afterAll(async () => {
  await cp?.stop();
  await bus?.close();
  await server?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('mk actors', () => {
  it('lists the pods\' actors with the objects they keep, and hides system actors', async () => {
    const r = await until('both pod actors listed', async () => {
      const res = await mk('actors');
      return res.code === 0 && res.stdout.includes('pod/default/alpha') && res.stdout.includes('pod/default/beta') ? res : undefined;
    }, 30_000, 250);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^PROCESS\s+PATH\s+KIND\s+OBJECT\s+MAILBOX\s+MSG\/S\s+P99\(ms\)\s+RESTARTS\s+LAST CRASH$/);
    const alpha = lines.find((l) => l.includes('pod/default/alpha'))!;
    expect(alpha).toMatch(/^cp-\S+\s+\/leader-\d+\/pods\/\S+\s+pod\s+pod\/default\/alpha\s+\d+\s+[\d.]+\s+\S+\s+0\s+-$/);
    // The api, the scheduler and the supervisors are mk's own machinery.
    expect(r.stdout).not.toMatch(/\bscheduler\b/);
    const all = await mk('actors', '--system', '--sort-by', 'path');
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/\bscheduler\b/);
    expect(all.stdout).toMatch(/\bpods-supervisor\b/);
  });

  it('prints the trees as JSON for scripts, one process, one kind', async () => {
    const list = await mk('actors', '--system', '-o', 'json');
    expect(list.code).toBe(0);
    const proc = (JSON.parse(list.stdout) as { processes: Tree[] }).processes[0].process;
    const r = await mk('actors', '--process', proc, '--kind', 'pod', '-o', 'json');
    expect(r.code).toBe(0);
    const trees = (JSON.parse(r.stdout) as { processes: Tree[] }).processes;
    expect(trees).toHaveLength(1);
    expect(trees[0].self.pid).toBe(process.pid);
    expect(trees[0].actors.map((a) => a.object?.name).sort()).toEqual(['alpha', 'beta']);
    expect(trees[0].actors.every((a) => a.kind === 'pod' && !a.system)).toBe(true);
  });

  it('fails with exit 1 naming a process that does not answer, and refuses a bad sort key', async () => {
    const r = await mk('actors', '--process', 'node-nowhere');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/mk\.sys\.actor\.node-nowhere\.snapshot/);
    const bad = await mk('actors', '--sort-by', 'colour');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/colour/);
  });
});
