/**
 * `mk up --nodes 3` end to end: three node agents, each with its own containerd in a network
 * namespace of its own, on a bridge in a namespace this test creates. Pods spread over the nodes,
 * reach each other across nodes and are reached from the host; a killed node agent is restarted by
 * the supervisor without restarting its pods; `mk down` leaves nothing and `mk up` resumes.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Pod } from '../../../messages';
import { canRunE2e, startMultiNodeCluster, waitFor, type HostState, type MultiNodeCluster } from '../../helpers/multi-node';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(900_000);

/** A busybox pod serving /etc over HTTP on 8080 (logging each client's address), pinned to `node` when given, with small requests. */
const podYaml = (name: string, node?: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: { app: spread }
spec:
${node ? `  nodeName: ${node}\n` : ''}  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: busybox
      command: ["httpd", "-f", "-vv", "-p", "8080", "-h", "/etc"]
      resources: { requests: { cpu: 100m, memory: 16Mi } }
`;

describeE2e('mk up --nodes 3', () => {
  let c: MultiNodeCluster;
  let before: HostState;

  const apply = async (yaml: string): Promise<void> => {
    const r = await c.mk(['apply', '-f', '-'], { stdin: yaml });
    expect(r).toMatchObject({ code: 0 });
  };
  const podsOf = async (): Promise<Pod[]> => {
    const r = await c.mk(['get', 'pods', '-o', 'json']);
    expect(r.code).toBe(0);
    return (JSON.parse(r.stdout) as { items: Pod[] }).items;
  };
  /** An HTTP GET of /group on ip:8080 from inside pod `from`, with busybox nc (its wget -T crashes). */
  const httpFromPod = (from: string, ip: string) =>
    c.mk(['exec', from, '--', 'sh', '-c', `printf 'GET /group HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} 8080`], { timeoutMs: 20_000 });

  beforeAll(async () => {
    c = await startMultiNodeCluster({ nodes: 3 });
    before = await c.hostState();
  });
  afterAll(async () => { await c?.destroy(); });

  it('gives three Ready nodes, each with its bridge address as InternalIP and a pod CIDR of its own', async () => {
    const nodes = await c.waitNodesReady();
    expect(nodes.map((n) => n.metadata.name).sort()).toEqual(['node', 'node-2', 'node-3']);
    for (const n of nodes) {
      const want = c.nodes.find((x) => x.name === n.metadata.name)!;
      expect(n.status?.addresses).toContainEqual({ type: 'InternalIP', address: want.address });
    }
    expect(new Set(nodes.map((n) => n.spec?.podCIDR)).size).toBe(3);
    expect(before.netns).toEqual(c.nodes.map((n) => n.netns).sort());
    // The images were built once, before the nodes started: every node imports the archives.
    for (const n of c.nodes) {
      expect(c.upOutput).toContain(`${n.name}: image docker.io/library/busybox:latest: cached archive`);
      expect(c.upOutput).toMatch(new RegExp(`✓ node ${n.name} Ready \\(\\d+\\.\\d s\\)`));
    }
    expect(c.upOutput).not.toMatch(/compile pause|pack layer/);
    expect(c.upOutput).toMatch(/✓ images built once for every node in \d+\.\d s \(registry\.mk\.local\/pause:3\.9, docker\.io\/library\/busybox:latest\)/);
    // A second cluster beside this one needs another subnet: refused before anything is written.
    const other = path.join(c.dataDir, 'other');
    const refused = await c.mk(['up', '--data-dir', other, '--nodes', '2', '--no-demo', '--port', '4333']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`the node subnet 172.30.0.0/24 overlaps 172.30.0.1/24 on ${c.topology.bridge}`);
    expect(fs.existsSync(other)).toBe(false);
    // With three NATS servers too (they all listen on the nodes' bridge), the subnet is what refuses it.
    const ha = await c.mk(['up', '--data-dir', other, '--nodes', '2', '--nats-servers', '3', '--no-demo', '--port', '4333']);
    expect(ha.code).toBe(1);
    expect(ha.stderr).toContain(`the node subnet 172.30.0.0/24 overlaps 172.30.0.1/24 on ${c.topology.bridge}`);
    expect(fs.existsSync(other)).toBe(false);
    const table = await c.mk(['get', 'nodes', '-o', 'wide']);
    expect(table.stdout).toMatch(/node-2\s+Ready\s+.*172\.30\.0\.12/);
  });

  it('spreads six pods over the three nodes and runs them all', async () => {
    await apply(Array.from({ length: 6 }, (_, i) => podYaml(`spread-${i}`)).join('---\n'));
    const pods = await waitFor('six pods Running', async () => {
      const ps = (await podsOf()).filter((p) => p.metadata.name.startsWith('spread-'));
      return ps.length === 6 && ps.every((p) => p.status?.phase === 'Running' && p.status.podIP) ? ps : null;
    }, 180_000);
    const byNode = new Map<string, number>();
    for (const p of pods) byNode.set(p.spec.nodeName!, (byNode.get(p.spec.nodeName!) ?? 0) + 1);
    expect([...byNode.keys()].sort()).toEqual(['node', 'node-2', 'node-3']);
    // Each node keeps its pods under a cgroup of its own.
    const { cgroups } = await c.hostState();
    for (const n of c.nodes) expect(cgroups.some((g) => g.endsWith(n.cgroupRoot))).toBe(true);
    // Each pod's IP is in the CIDR of the node it runs on.
    const nodes = await c.getNodes();
    for (const p of pods) {
      const cidr = nodes.find((n) => n.metadata.name === p.spec.nodeName)!.spec!.podCIDR!;
      expect(p.status!.podIP!.split('.').slice(0, 3).join('.')).toBe(cidr.split('.').slice(0, 3).join('.'));
    }
  });

  it('carries pod-to-pod traffic across nodes, both ways, and from the host to pods on every node', async () => {
    await apply([podYaml('a', 'node'), podYaml('b', 'node-2'), podYaml('c', 'node-3')].join('---\n'));
    const a = await c.waitPodPhase('a', 'Running');
    const b = await c.waitPodPhase('b', 'Running');
    const p3 = await c.waitPodPhase('c', 'Running');
    const ping = await waitFor('ping from a to b', async () => {
      const r = await c.mk(['exec', 'a', '--', 'ping', '-c', '1', '-W', '2', b.status!.podIP!], { timeoutMs: 20_000 });
      return r.code === 0 ? r : null;
    }, 60_000);
    expect(ping.stdout).toContain(`from ${b.status!.podIP}`);
    for (const [from, to] of [['a', b], ['b', p3], ['c', a]] as const) {
      const r = await waitFor(`HTTP from ${from} to ${to.metadata.name}`, async () => {
        const res = await httpFromPod(from, to.status!.podIP!);
        return res.code === 0 && res.stdout.includes('200 OK') ? res : null;
      }, 60_000);
      expect(r.stdout).toContain('root:x:0:');
      // The server saw the client pod's own address, not its node's: no masquerade between pods.
      const fromIP = [a, b, p3].find((p) => p.metadata.name === from)!.status!.podIP!;
      const logs = await c.mk(['logs', to.metadata.name]);
      expect(logs.stdout + logs.stderr).toMatch(new RegExp(`\\b${fromIP.replace(/\./g, '\\.')}\\]?:\\d+: url:/group`));
    }
    for (const p of [a, b, p3]) {
      const r = await waitFor(`HTTP from the host to ${p.metadata.name}`, async () => {
        const res = await c.run(['timeout', '5', '/bin/busybox', 'wget', '-qO-', `http://${p.status!.podIP}:8080/group`]);
        return res.code === 0 ? res : null;
      }, 60_000);
      expect(r.stdout).toContain('nobody:x:65534:');
    }
    // Each node routes the other nodes' pod CIDRs via their addresses, and only those.
    const routes = await c.runOnNode('node', ['ip', 'route', 'show', 'proto', '77']);
    const nodes = await c.getNodes();
    const others = nodes.filter((n) => n.metadata.name !== 'node');
    const installed = routes.stdout.split('\n').map((l) => /^(\S+) via (\S+) dev eth0\b/.exec(l.trim())).filter((m) => !!m).map((m) => `${m![1]} via ${m![2]}`);
    expect(installed.sort()).toEqual(others.map((n) => {
      const ip = n.status!.addresses!.find((x) => x.type === 'InternalIP')!.address;
      return `${n.spec!.podCIDR} via ${ip}`;
    }).sort());
  });

  it('restarts a SIGKILLed node agent, which adopts its running pods without restarting them', async () => {
    const b = await c.getPod('b');
    const containerID = b.status?.containerStatuses?.[0]?.containerID;
    const old = c.nodeAgentPid('node-2')!;
    expect(old).toBeGreaterThan(0);
    process.kill(old, 'SIGKILL');
    const next = await waitFor('a new node agent for node-2', async () => {
      const pid = c.nodeAgentPid('node-2');
      return pid && pid !== old ? pid : null;
    }, 60_000);
    expect(next).not.toBe(old);
    // A pod bound to node-2 after the restart runs, so the new agent serves the node.
    await apply(podYaml('after-restart', 'node-2'));
    await c.waitPodPhase('after-restart', 'Running', 120_000);
    const again = await c.getPod('b');
    expect(again.status?.containerStatuses?.[0]?.containerID).toBe(containerID);
    expect(again.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    await c.waitNodesReady();
  });

  it('cuts a disconnected node off the host and the other nodes, and carries traffic again once it is back', async () => {
    const [a, p3] = [await c.getPod('a'), await c.getPod('c')];
    const fromHost = (ip: string) => c.run(['timeout', '3', '/bin/busybox', 'wget', '-qO-', `http://${ip}:8080/group`]);
    await c.disconnectNode('node-3');
    try {
      expect((await fromHost(p3.status!.podIP!)).code).not.toBe(0);
      expect((await httpFromPod('a', p3.status!.podIP!)).stdout).not.toContain('200 OK');
      expect((await fromHost(a.status!.podIP!)).code).toBe(0);
    } finally {
      await c.reconnectNode('node-3');
    }
    await waitFor('HTTP from the host to c again', async () => (await fromHost(p3.status!.podIP!)).code === 0, 30_000);
    await waitFor('HTTP from a to c again', async () => (await httpFromPod('a', p3.status!.podIP!)).stdout.includes('200 OK'), 30_000);
  });

  it('follows nodes as they go and come back: routes to a deleted node\'s pods go, and return when it registers again', async () => {
    const routesOnNode = async (): Promise<string[]> => (await c.runOnNode('node', ['ip', 'route', 'show', 'proto', '77'])).stdout
      .split('\n').map((l) => l.trim().split(' ')[0]).filter(Boolean).sort();
    const hostRoutes = async (): Promise<string[]> => (await c.run(['ip', 'route', 'show', 'proto', '77'])).stdout
      .split('\n').map((l) => l.trim().split(' ')[0]).filter(Boolean).sort();
    const node3 = (await c.getNodes()).find((n) => n.metadata.name === 'node-3')!;
    const cidr = node3.spec!.podCIDR!;
    expect(await routesOnNode()).toContain(cidr);
    expect(await hostRoutes()).toContain(cidr);
    expect((await c.mk(['delete', 'node', 'node-3'])).code).toBe(0);
    // Gone from the other nodes and the host until node-3's agent registers again (its next heartbeat).
    await waitFor('the route to node-3\'s pods gone', async () => !(await routesOnNode()).includes(cidr) && !(await hostRoutes()).includes(cidr), 15_000, 100);
    const back = await waitFor('node-3 registered again with a pod CIDR', async () => {
      const n = (await c.getNodes()).find((x) => x.metadata.name === 'node-3');
      return n?.spec?.podCIDR;
    }, 60_000);
    await waitFor('the route to node-3\'s pods back', async () => (await routesOnNode()).includes(back) && (await hostRoutes()).includes(back), 60_000);
    await c.waitNodesReady();
  });

  it('mk down leaves nothing; mk up resumes the three nodes with their pods, here with a standby control plane; another --nodes is refused', async () => {
    const down = await c.mk(['down'], { timeoutMs: 180_000 });
    expect(down.code).toBe(0);
    expect(down.stdout).toContain('removed the nodes\' network');
    const after = await c.hostState();
    expect(after.netns).toEqual([]);
    expect(after.mounts).toEqual([]);
    expect(after.processes).toEqual([]);
    expect(after.cgroups).toEqual([]);
    // The host namespace had lo, the bridge and one veth end per node; now only lo.
    expect(before.links).toContain(c.topology.bridge);
    expect(after.links).toEqual(['lo']);
    expect((await c.run(['ip', 'route', 'show', 'proto', '77'])).stdout.trim()).toBe('');

    const refused = await c.mk(['up', '--nodes', '2', '--no-demo']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('has 3 nodes; it cannot be started with --nodes 2');
    expect((await c.hostState()).netns).toEqual([]);

    // Resumed with a standby control plane: one leads and keeps the nodes and their routes.
    const up = await c.mk(['up', '--nodes', '3', '--control-planes', '2', '--no-demo', '--timeout', '240'], { timeoutMs: 300_000 });
    expect(up.code).toBe(0);
    expect(up.stdout).toContain('2 control planes');
    await c.waitNodesReady();
    const pidOf = (name: string): number => Number(fs.readFileSync(path.join(c.dataDir, 'run', `${name}.pid`), 'utf8').trim());
    const holder = await waitFor('a leading control plane', async () => {
      const l = await c.mk(['get', 'lease', 'mk-control-plane', '-n', 'mk-system', '-o', 'json']);
      const id = l.code === 0 ? (JSON.parse(l.stdout) as { spec?: { holderIdentity?: string } }).spec?.holderIdentity : undefined;
      return id ? Number(id.split('_').at(-2)) : null;
    }, 60_000);
    expect([pidOf('control-plane'), pidOf('control-plane-2')]).toContain(holder);
    const a = await c.waitPodPhase('a', 'Running', 120_000);
    const b = await c.getPod('b');
    const r = await waitFor('HTTP from a to b after the restart', async () => {
      const p = await c.getPod('b');
      if (p.status?.phase !== 'Running' || !p.status.podIP) return null;
      const res = await httpFromPod('a', p.status.podIP);
      return res.code === 0 && res.stdout.includes('200 OK') ? res : null;
    }, 120_000);
    expect(r.stdout).toContain('root:x:0:');
    expect(a.spec.nodeName).toBe('node');
    expect(b.spec.nodeName).toBe('node-2');
  });

  it('mk down after the supervisor and every child were SIGKILLed still leaves nothing', async () => {
    const runDir = path.join(c.dataDir, 'run');
    const pids = fs.readdirSync(runDir).filter((f) => f.endsWith('.pid')).map((f) => Number(fs.readFileSync(path.join(runDir, f), 'utf8')));
    expect(pids.length).toBe(1 + 3 + 1 + c.nodes.length); // up, nats, two control planes, the function gateway, one agent per node
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    // Their containerds and pods live on, in the nodes' namespaces and cgroups.
    expect((await c.hostState()).netns).toHaveLength(3);
    const down = await c.mk(['down'], { timeoutMs: 180_000 });
    expect(down.code).toBe(0);
    expect(down.stdout).toContain('mk is not running');
    const after = await c.hostState();
    expect(after).toEqual({ netns: [], links: ['lo'], mounts: [], processes: [], cgroups: [] });
  });
});
