/**
 * Joining a second machine end to end: `mk up --advertise-address` in one network namespace, a
 * veth pair to a second namespace (another "host"), and there `mk node-agent --join` with the
 * command `mk token create --print-join-command` printed. The joined node registers over TLS with
 * its own credentials and becomes Ready; a wrong pin is refused from the same host. A DaemonSet
 * applied before the join follows the new node: its pod runs there as a real container.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Node, Pod } from '../../../messages';
import { pidAlive } from '../../../node-agent/containerd/cleanup';
import { purgeContainerd } from '../../../node-agent/containerd/process';
import { canRunE2e, startCluster, unmountUnder, waitFor, type TestCluster } from '../../helpers/cluster';
import { createNetns, type TestNetns } from '../../helpers/netns';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(600_000);

const BIN = path.resolve(__dirname, '..', '..', '..', 'bin', 'run.js');
const NET = '10.251.0';

const DAEMONSET = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: everywhere
spec:
  selector: { matchLabels: { app: everywhere } }
  template:
    metadata:
      labels: { app: everywhere }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: busybox
          command: ["sleep", "3600"]
`;

describeE2e('a machine joining a cluster', () => {
  let c: TestCluster;
  let host2: TestNetns;
  let dataDir2: string;
  let agent: ChildProcess | undefined;
  let agentErr = '';

  const daemonPods = async (): Promise<Pod[]> => {
    const r = await c.mk(['get', 'pods', '-l', 'app=everywhere', '-o', 'json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return (JSON.parse(r.stdout) as { items: Pod[] }).items.filter((p) => !p.metadata.deletionTimestamp);
  };

  /** Runs `mk ARGS` on the second host (its own data dir); resolves with exit code and output. */
  const mk2 = (args: string[]): Promise<{ code: number; stderr: string }> => new Promise((resolve) => {
    const p = spawn('nsenter', [`--net=${host2.path}`, '--', process.execPath, BIN, ...args, '--data-dir', dataDir2], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => { stderr += d.toString(); });
    p.on('exit', (code) => resolve({ code: code ?? 1, stderr }));
  });

  beforeAll(async () => {
    c = await startCluster({ upArgs: ['--advertise-address', `${NET}.1`] });
    host2 = await createNetns('mkjoin');
    dataDir2 = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mk-e2e-join-')), 'data');
    // The link is made inside the cluster's namespace, its peer moved into the second one.
    for (const cmd of [
      ['ip', 'link', 'add', 'mkj0', 'type', 'veth', 'peer', 'name', 'mkj1', 'netns', host2.name],
      ['ip', 'addr', 'add', `${NET}.1/24`, 'dev', 'mkj0'],
      ['ip', 'link', 'set', 'mkj0', 'up'],
    ]) expect(await c.run(cmd)).toMatchObject({ code: 0 });
    for (const cmd of [['ip', 'addr', 'add', `${NET}.2/24`, 'dev', 'mkj1'], ['ip', 'link', 'set', 'mkj1', 'up']]) {
      expect(await host2.run(cmd)).toMatchObject({ code: 0 });
    }
  });

  afterAll(async () => {
    if (agent?.pid && agent.exitCode === null) {
      const exited = new Promise((r) => agent!.once('exit', r));
      process.kill(agent.pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => { timer = setTimeout(r, 30_000); })]);
      clearTimeout(timer);
    }
    // Whatever the joined agent started (its containerd, shims) names its data dir.
    if (dataDir2) {
      const killed: number[] = [];
      for (const d of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(d)) continue;
        try {
          if (fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(dataDir2)) { process.kill(Number(d), 'SIGKILL'); killed.push(Number(d)); }
        } catch { /* gone */ }
      }
      await waitFor('the joined node\'s processes to exit', async () => !(await Promise.all(killed.map(pidAlive))).some(Boolean), 10_000, 50).catch(() => undefined);
      // Its containers outlive their killed shims: runc deletes them (their processes killed) from its state.
      const ctrDir = path.join(dataDir2, 'node', 'containerd');
      await purgeContainerd({ dataDir: ctrDir, socketPath: path.join(ctrDir, 'containerd.sock') }).catch(() => undefined);
      unmountUnder(dataDir2);
      fs.rmSync(path.dirname(dataDir2), { recursive: true, force: true });
    }
    await host2?.destroy();
    await c?.destroy();
  });

  it('joins over TLS with the printed command and runs as a Ready node of its own', async () => {
    const ds = await c.mk(['apply', '-f', '-'], { stdin: DAEMONSET });
    expect(ds).toMatchObject({ code: 0, stdout: 'daemonset.apps/everywhere created\n' });
    const first = await waitFor('the daemon pod on the first node', async () => {
      const ps = await daemonPods();
      return ps.length === 1 && ps[0].status?.phase === 'Running' ? ps : null;
    }, 120_000);
    const printed = await c.mk(['token', 'create', '--print-join-command', '--description', 'e2e']);
    expect(printed.code).toBe(0);
    const cmd = printed.stdout.trim().split(' ');
    expect(cmd.slice(0, 4)).toEqual(['mk', 'node-agent', '--join', expect.stringMatching(new RegExp(`^nats://${NET.replace(/\./g, '\\.')}\\.1:\\d+$`))]);

    const hash = cmd[cmd.indexOf('--ca-cert-hash') + 1];
    const wrong = await mk2([...cmd.slice(1).map((a) => (a === hash ? `sha256:${'e'.repeat(64)}` : a)), '--node-name', 'n2', '--join-only']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('refusing to join');
    expect(fs.existsSync(dataDir2)).toBe(false);

    agent = spawn('nsenter', [`--net=${host2.path}`, '--', process.execPath, BIN, ...cmd.slice(1), '--node-name', 'n2', '--data-dir', dataDir2], {
      stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MK_HOME: dataDir2 },
    });
    agent.stderr!.on('data', (d) => { agentErr = (agentErr + d.toString()).slice(-8000); });
    const node = await waitFor('node n2 Ready', async () => {
      if (agent!.exitCode !== null) throw new Error(`the joined agent exited (${agent!.exitCode}): ${agentErr}`);
      const r = await c.mk(['get', 'node', 'n2', '-o', 'json']);
      if (r.code !== 0) return null;
      const n = JSON.parse(r.stdout) as Node;
      return n.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True' ? n : null;
    }, 300_000, 1000).catch((err: Error) => { throw new Error(`${err.message}\n${agentErr}`); });
    expect(node.status?.addresses).toContainEqual({ type: 'InternalIP', address: `${NET}.2` });
    expect(agentErr).toContain('node n2 joined the cluster');
    const ctx = JSON.parse(fs.readFileSync(path.join(dataDir2, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(ctx).toEqual({ servers: [cmd[3]], nodeName: 'n2', caFile: path.join(dataDir2, 'tls', 'ca.crt'), nkeyFile: path.join(dataDir2, 'node.nkey') });
    const list = await c.mk(['get', 'nodes']);
    expect(list.stdout).toMatch(/^n2\s+Ready/m);

    // The DaemonSet follows the join: a second pod, bound to n2, running on n2's containerd.
    const both = await waitFor('a daemon pod Running on n2', async () => {
      const ps = await daemonPods();
      return ps.length === 2 && ps.every((p) => p.status?.phase === 'Running') ? ps : null;
    }, 300_000, 1000).catch((err: Error) => { throw new Error(`${err.message}\n${agentErr}`); });
    expect(both.map((p) => p.spec.nodeName).sort()).toEqual([first[0].spec.nodeName, 'n2'].sort());
    expect(both.find((p) => p.metadata.name === first[0].metadata.name)?.metadata.uid).toBe(first[0].metadata.uid);
    const onN2 = both.find((p) => p.spec.nodeName === 'n2')!;
    expect(onN2.status?.hostIP).toBe(`${NET}.2`);
    const status = await c.mk(['get', 'ds', 'everywhere', '-o', 'json']);
    expect(JSON.parse(status.stdout).status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2 });
  });
});
