/**
 * `mk up --nodes 3 --control-planes 2 --nats-servers 3` end to end: three node agents in network
 * namespaces of their own reach all three NATS servers on the nodes' bridge. The leading control
 * plane SIGKILLed in the middle of a burst of applies: the other takes over and every pod runs
 * exactly once (one binding, one sandbox, no restarted container). A NATS server SIGKILLed while
 * pods are applied and deleted: the CLI goes on, the node agents move to another server and stay
 * Ready, and once the supervisor has restarted the server nothing is lost or doubled. `mk down`
 * leaves nothing.
 */
import { controlPlaneLease, holderPid } from '../../helpers/control-plane-lease';
import { type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Lease, Node, Pod } from '../../../messages';
import { CriClient } from '../../../node-agent/cri';
import type { Container, PodSandbox } from '../../../node-agent/cri/types';
import { LABEL_POD_UID } from '../../../node-agent/pods';
import { canRunE2e, startMultiNodeCluster, waitFor, type MultiNodeCluster } from '../../helpers/multi-node';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(1_200_000);

const LEASE_SECONDS = 5;
const BURST = 15;
/** Given to mk up, which passes it to its control planes: every pod's default not-ready toleration. */
const NOT_READY_SECONDS = 120;

/** A busybox pod that sleeps, pinned to `node` when given, with small requests. */
const podYaml = (name: string, node?: string): string => `apiVersion: v1
kind: Pod
metadata: { name: ${name}, labels: { app: ha } }
spec:
${node ? `  nodeName: ${node}\n` : ''}  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: busybox
      command: ["sleep", "3600"]
      resources: { requests: { cpu: 10m, memory: 8Mi } }
`;

/** What every node's containerd holds, by pod uid: sandboxes and containers, with the node. */
interface RuntimeView {
  sandboxes: Map<string, { node: string; sandbox: PodSandbox }[]>;
  containers: Map<string, { node: string; container: Container }[]>;
}

describeE2e('mk up --nodes 3 --control-planes 2 --nats-servers 3', () => {
  let c: MultiNodeCluster;
  const cris = new Map<string, CriClient>();
  /** Every binding a watch of the pods saw: pod name -> the uids and node names it carried. */
  const seen = new Map<string, { uids: Set<string>; nodes: string[] }>();
  let watch: ChildProcess | undefined;
  let watching = true;

  const ready = (n: Node) => n.status?.conditions?.find((x) => x.type === 'Ready');
  const lease = (): Promise<Lease | undefined> => controlPlaneLease((args) => c.mk(args));
  const pods = async (): Promise<Pod[]> => {
    const r = await c.mk(['get', 'pods', '-o', 'json']);
    if (r.code !== 0) throw new Error(`mk get pods: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { items: Pod[] }).items;
  };
  const allRunning = (names: string[], ms: number) => waitFor(`${names.length} pods Running`, async () => {
    const ps = (await pods()).filter((p) => names.includes(p.metadata.name));
    return ps.length === names.length && ps.every((p) => p.status?.phase === 'Running') ? ps : null;
  }, ms);
  /** The sandboxes and containers of every node's containerd, grouped by the pod uid label. */
  const runtime = async (): Promise<RuntimeView> => {
    const view: RuntimeView = { sandboxes: new Map(), containers: new Map() };
    for (const n of c.nodes) {
      let cri = cris.get(n.name);
      if (!cri) {
        cri = await CriClient.connect(path.join(n.dataDir, 'containerd', 'containerd.sock'), { timeoutMs: 5_000 });
        cris.set(n.name, cri);
      }
      const [sb, ct] = await Promise.all([cri.listPodSandbox({}), cri.listContainers({})]);
      for (const s of sb.items) {
        const uid = s.labels[LABEL_POD_UID];
        if (uid) view.sandboxes.set(uid, [...(view.sandboxes.get(uid) ?? []), { node: n.name, sandbox: s }]);
      }
      for (const x of ct.containers) {
        const uid = x.labels[LABEL_POD_UID];
        if (uid) view.containers.set(uid, [...(view.containers.get(uid) ?? []), { node: n.name, container: x }]);
      }
    }
    return view;
  };
  /** Each pod: one binding ever seen, one sandbox (ready, on its node), one container, no restart. */
  const expectRanOnce = async (ps: Pod[]): Promise<void> => {
    // A watch served by a control plane that died relists once it notices: wait until it caught up.
    await waitFor('the watch to have seen every binding', async () => ps.every((p) => seen.get(p.metadata.name)?.nodes.length), 90_000);
    const view = await runtime();
    for (const p of ps) {
      const name = p.metadata.name;
      const uid = p.metadata.uid!;
      const watched = seen.get(name);
      expect({ name, uids: [...(watched?.uids ?? [])], nodes: [...new Set(watched?.nodes ?? [])] })
        .toEqual({ name, uids: [uid], nodes: [p.spec.nodeName] });
      const sandboxes = (view.sandboxes.get(uid) ?? []).map((s) => `${s.node} ${s.sandbox.state}`);
      expect({ name, sandboxes }).toEqual({ name, sandboxes: [`${p.spec.nodeName} SANDBOX_READY`] });
      const containers = (view.containers.get(uid) ?? []).map((x) => `${x.node} ${x.container.state}`);
      expect({ name, containers }).toEqual({ name, containers: [`${p.spec.nodeName} CONTAINER_RUNNING`] });
      expect({ name, restarts: p.status?.containerStatuses?.map((s) => s.restartCount) }).toEqual({ name, restarts: [0] });
    }
  };
  /** Follows `mk get pods -w -o json`, noting each pod's uid and node as the watch shows them; restarts it if it ends. */
  const startWatch = (): void => {
    const w = c.spawnMk(['get', 'pods', '-w', '-o', 'json']);
    watch = w;
    let buf = '';
    w.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      // toJson indents: a document ends with a `}` alone at the start of a line.
      let end: number;
      while ((end = buf.search(/^}\n/m)) >= 0) {
        const doc = buf.slice(0, end + 2);
        buf = buf.slice(end + 2);
        const p = JSON.parse(doc) as Pod;
        const entry = seen.get(p.metadata.name) ?? { uids: new Set<string>(), nodes: [] };
        if (p.metadata.uid) entry.uids.add(p.metadata.uid);
        if (p.spec?.nodeName) entry.nodes.push(p.spec.nodeName);
        seen.set(p.metadata.name, entry);
      }
    });
    // A watch refused while no control plane leads is started again, a moment later.
    w.on('close', () => { if (watching) setTimeout(() => { if (watching) startWatch(); }, 500); });
  };
  /** Node agent `pid`'s TCP connections to the bus (the bridge address), as remote ports, from its namespace. */
  const busPorts = async (node: string, pid: number): Promise<number[]> => {
    const r = await c.runOnNode(node, ['ss', '-Htnp', 'state', 'established']);
    return r.stdout.split('\n').filter((l) => l.includes(`pid=${pid},`))
      .map((l) => l.trim().split(/\s+/)[3] ?? '')
      .filter((peer) => peer.startsWith(`${c.topology.hostAddress}:`))
      .map((peer) => Number(peer.split(':')[1]));
  };

  beforeAll(async () => {
    c = await startMultiNodeCluster({
      nodes: 3, env: { MK_LEASE_SECONDS: String(LEASE_SECONDS) },
      upArgs: ['--control-planes', '2', '--nats-servers', '3', '--default-not-ready-toleration-seconds', String(NOT_READY_SECONDS)],
    });
  });
  afterAll(async () => {
    watching = false;
    watch?.kill('SIGINT');
    for (const cri of cris.values()) cri.close();
    await c?.destroy();
  });

  it('gives every node agent all three NATS servers on the bridge, and three Ready nodes', async () => {
    const ctx = JSON.parse(fs.readFileSync(path.join(c.dataDir, 'config.json'), 'utf8')) as { servers: string[] };
    expect(ctx.servers).toEqual([4222, 4223, 4224].map((p) => `nats://${c.topology.hostAddress}:${p}`));
    const nodes = await c.waitNodesReady();
    expect(nodes.map((n) => n.metadata.name).sort()).toEqual(['node', 'node-2', 'node-3']);
    // A child that crashed at start is restarted by the supervisor after a backoff: wait for all five.
    for (const child of ['nats', 'nats-1', 'nats-2', 'control-plane', 'control-plane-2']) {
      expect(await waitFor(`${child} running`, async () => c.childPid(child), 30_000)).toBeGreaterThan(0);
    }
    for (const n of c.nodes) {
      const ports = await waitFor(`${n.name}'s agent on the bus`, async () => {
        const p = await busPorts(n.name, c.nodeAgentPid(n.name)!);
        return p.length > 0 ? p : null;
      }, 30_000);
      for (const p of ports) expect([4222, 4223, 4224]).toContain(p);
    }
    const l = await waitFor('a leader', async () => lease(), 60_000);
    expect([c.childPid('control-plane'), c.childPid('control-plane-2')]).toContain(holderPid(l));
  });

  it('runs every pod exactly once when the leading control plane is SIGKILLed in a burst of applies', async () => {
    startWatch();
    await waitFor('the watch to start', async () => watch?.pid !== undefined, 10_000);
    const pre = ['pre-0', 'pre-1', 'pre-2'];
    expect((await c.mk(['apply', '-f', '-'], { stdin: pre.map((n) => podYaml(n)).join('---\n') })).code).toBe(0);
    const before = await allRunning(pre, 180_000);
    // mk up gave its control planes the toleration seconds.
    expect(before[0].spec.tolerations).toContainEqual(
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: NOT_READY_SECONDS });
    const containerIds = new Map(before.map((p) => [p.metadata.name, p.status?.containerStatuses?.[0]?.containerID]));
    const leader = holderPid(await lease())!;
    const other = [c.childPid('control-plane'), c.childPid('control-plane-2')].find((p) => p !== leader)!;
    expect(other).toBeGreaterThan(0);

    const burst = Array.from({ length: BURST }, (_, i) => `burst-${i}`);
    let killedAt = 0;
    for (const [i, name] of burst.entries()) {
      if (i === 5) {
        process.kill(leader, 'SIGKILL');
        killedAt = Date.now();
      }
      // Applying is idempotent: an apply refused while no control plane leads is sent again.
      await waitFor(`apply ${name}`, async () => (await c.mk(['apply', '-f', '-'], { stdin: podYaml(name) })).code === 0, 60_000, 500);
    }
    await waitFor('the other control plane to lead', async () => holderPid(await lease()) === other, 60_000, 200);
    expect(killedAt).toBeGreaterThan(0);

    const after = await allRunning([...pre, ...burst], 300_000);
    expect(after.map((p) => p.metadata.name).sort()).toEqual([...pre, ...burst].sort());
    expect(new Set(after.map((p) => p.metadata.uid)).size).toBe(after.length);
    // Spread over more than one node, so every node's containerd is looked at with pods on it.
    expect(new Set(after.map((p) => p.spec.nodeName)).size).toBeGreaterThan(1);
    for (const p of after.filter((x) => pre.includes(x.metadata.name))) {
      expect(p.status?.containerStatuses?.[0]?.containerID).toBe(containerIds.get(p.metadata.name));
    }
    await expectRanOnce(after);
  });

  it('goes on applying, deleting and listing with a NATS server SIGKILLed; node agents move and stay Ready; nothing is lost once it is back', async () => {
    // Kill the server most node agents use, so at least one agent's connection must move.
    const agents = c.nodes.map((n) => ({ node: n.name, pid: c.nodeAgentPid(n.name)! }));
    const used = (await Promise.all(agents.map((a) => busPorts(a.node, a.pid)))).flat();
    expect(used.length).toBeGreaterThan(0);
    const port = [4222, 4223, 4224].sort((a, b) => used.filter((p) => p === b).length - used.filter((p) => p === a).length)[0];
    const child = port === 4222 ? 'nats' : `nats-${port - 4222}`;
    const victim = c.childPid(child)!;
    process.kill(victim, 'SIGKILL');
    const killedAt = Date.now();

    const added = c.nodes.flatMap((n, i) => [`nd-${i}-a`, `nd-${i}-b`].map((name) => ({ name, node: n.name })));
    const applied = await c.mk(['apply', '-f', '-'], { stdin: added.map((a) => podYaml(a.name, a.node)).join('---\n') });
    // A write whose reply was lost while a stream elected its leader is read again and said so.
    const otherStderr = applied.stderr.split('\n').filter((l) => l && !/^Warning: the reply to a write was lost .*; read again and applied: (created|unchanged|configured)$/.test(l));
    expect({ code: applied.code, stderr: otherStderr }).toEqual({ code: 0, stderr: [] });
    const gone = ['burst-0', 'burst-1', 'burst-2'];
    const goneUids = (await pods()).filter((p) => gone.includes(p.metadata.name)).map((p) => p.metadata.uid!);
    expect(goneUids).toHaveLength(3);
    const deleted = await c.mk(['delete', 'pod', ...gone, '--grace-period', '0']);
    expect({ code: deleted.code, stderr: deleted.stderr }).toEqual({ code: 0, stderr: '' });
    const listed = await c.mk(['get', 'pods']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/nd-0-a/);

    const names = added.map((a) => a.name);
    const running = await allRunning(names, 240_000);
    for (const a of added) expect(running.find((p) => p.metadata.name === a.name)?.spec.nodeName).toBe(a.node);
    // Every agent is on a live server; none flipped NotReady meanwhile.
    for (const a of agents) {
      expect(c.nodeAgentPid(a.node)).toBe(a.pid);
      const ports = await waitFor(`${a.node}'s agent on a live server`, async () => {
        const p = await busPorts(a.node, a.pid);
        return p.length > 0 && !p.includes(port) ? p : null;
      }, 60_000);
      expect(ports).not.toContain(port);
    }
    for (const n of await c.waitNodesReady(60_000)) expect(Date.parse(ready(n)!.lastTransitionTime!)).toBeLessThan(killedAt);

    // The supervisor starts the server again; the cluster then has all it had, once.
    const restarted = await waitFor(`${child} restarted`, async () => {
      const pid = c.childPid(child);
      return pid && pid !== victim ? pid : null;
    }, 120_000);
    expect(restarted).not.toBe(victim);
    // It serves clients again: the CLI with a context naming only it lists every pod.
    const only = (p: number): string[] => {
      const dir = path.join(c.dataDir, `only-${p}`);
      const ctx = JSON.parse(fs.readFileSync(path.join(c.dataDir, 'config.json'), 'utf8')) as { servers: string[] };
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...ctx, servers: [`nats://${c.topology.hostAddress}:${p}`] }), { mode: 0o600 });
      return ['--data-dir', dir];
    };
    await waitFor(`${child} serving clients again`, async () => {
      const r = await c.mk(['get', 'pods', '-o', 'name', ...only(port)]);
      return r.code === 0 && names.every((n) => r.stdout.includes(`pod/${n}\n`));
    }, 60_000);
    // It holds the data again: with another server SIGKILLed, it is half of the majority that writes.
    const second = ['nats', 'nats-1', 'nats-2'].find((x) => x !== child)!;
    const secondPid = c.childPid(second)!;
    process.kill(secondPid, 'SIGKILL');
    await waitFor('an apply with the second server down', async () => (await c.mk(['apply', '-f', '-'], { stdin: podYaml('nd-last') })).code === 0, 60_000, 500);
    names.push('nd-last');
    await allRunning(names, 180_000);
    await waitFor(`${second} restarted`, async () => {
      const pid = c.childPid(second);
      return pid && pid !== secondPid ? pid : null;
    }, 120_000);
    await waitFor('the deleted pods gone from every node', async () => {
      const view = await runtime();
      return goneUids.every((u) => !view.sandboxes.has(u) && !view.containers.has(u));
    }, 120_000);
    const final = await pods();
    const want = ['pre-0', 'pre-1', 'pre-2', ...Array.from({ length: BURST }, (_, i) => `burst-${i}`).filter((n) => !gone.includes(n)), ...names];
    expect(final.map((p) => p.metadata.name).sort()).toEqual(want.sort());
    expect(final.every((p) => p.status?.phase === 'Running')).toBe(true);
    expect(new Set(final.map((p) => p.spec.nodeName))).toEqual(new Set(c.nodes.map((n) => n.name)));
    await expectRanOnce(final);
  });

  it('mk down leaves nothing; mk up resumes the same shape with every pod on its node; mk down again leaves nothing', async () => {
    watching = false;
    watch?.kill('SIGINT');
    for (const cri of cris.values()) cri.close();
    cris.clear();
    const kept = new Map((await pods()).map((p) => [p.metadata.name, p.spec.nodeName]));
    expect(kept.size).toBe(3 + BURST - 3 + 7);
    const down = await c.mk(['down'], { timeoutMs: 180_000 });
    expect(down.code).toBe(0);
    expect(down.stdout).toContain('removed the nodes\' network');
    expect(await c.hostState()).toEqual({ netns: [], links: ['lo'], mounts: [], processes: [], cgroups: [] });

    const up = await c.mk(['up', '--no-demo', '--timeout', '240'], { timeoutMs: 300_000 });
    expect({ code: up.code, stderr: up.stderr }).toEqual({ code: 0, stderr: '' });
    expect(up.stdout).toContain('3 NATS servers, 2 control planes');
    const ctx = JSON.parse(fs.readFileSync(path.join(c.dataDir, 'config.json'), 'utf8')) as { servers: string[] };
    expect(ctx.servers).toEqual([4222, 4223, 4224].map((p) => `nats://${c.topology.hostAddress}:${p}`));
    await c.waitNodesReady();
    // The control planes' settings were kept: the resumed ones get them without the flag.
    for (const cp of ['control-plane', 'control-plane-2']) {
      const argv = fs.readFileSync(`/proc/${c.childPid(cp)}/cmdline`, 'utf8').split('\0');
      const at = argv.indexOf('--default-not-ready-toleration-seconds');
      expect(at).toBeGreaterThan(0);
      expect(argv[at + 1]).toBe(String(NOT_READY_SECONDS));
    }
    const back = await allRunning([...kept.keys()], 300_000);
    expect(new Map(back.map((p) => [p.metadata.name, p.spec.nodeName]))).toEqual(kept);
    for (const n of c.nodes) expect((await busPorts(n.name, c.nodeAgentPid(n.name)!)).every((p) => [4222, 4223, 4224].includes(p))).toBe(true);

    const again = await c.mk(['down'], { timeoutMs: 180_000 });
    expect(again.code).toBe(0);
    expect(await c.hostState()).toEqual({ netns: [], links: ['lo'], mounts: [], processes: [], cgroups: [] });
  });
});
