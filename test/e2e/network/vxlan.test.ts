/**
 * The vxlan pod network between "nodes" that share no L2 segment, with the real route sync against
 * a real nats-server bucket. Every host is a network namespace this test makes:
 *
 *   router   ip_forward, 172.31.N.1/24 on its veth to node N (no route to any pod CIDR)
 *   node N   eth0 172.31.N.2/24, 172.31.0.0/16 via the router; bridge mkpod0 10.244.N.1/24
 *   pod N    eth0 10.244.N.2/24 on node N's bridge, default via 10.244.N.1
 *
 * host-gw cannot route there (the kernel refuses a gateway on another subnet, and the route sync
 * says to use vxlan); vxlan carries pod-to-pod traffic with the sender's pod IP as its source; a
 * node whose entry goes loses exactly its neighbor, FDB entry and route on the others; a restarted
 * sync finds its entries and changes nothing; a node switched to host-gw removes its device;
 * teardown leaves no mk device, route or chain.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { connectBus, ObjectStore, type Bus } from '../../../bus';
import { NODE_ROUTES_BUCKET, type NodeRoute } from '../../../messages';
import {
  ensureVxlanDevice, execVia, listPodRoutes, listVxlanEntries, removePodRoutes, startRouteSync, VXLAN_DEVICE,
  type Exec, type RouteSync,
} from '../../../node-agent/network';
import { signal } from '../../../embedded/processes';
import { startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { createNetns, type TestNetns } from '../../helpers/netns';
import { waitFor } from '../../helpers/wait';

jest.setTimeout(120_000);

const canRun = process.getuid?.() === 0 && fs.existsSync('/usr/bin/nsenter') && fs.existsSync('/usr/bin/busybox');
const describeE2e = canRun ? describe : describe.skip;

interface TestNode {
  n: number;
  name: string;
  ns: TestNetns;
  pod: TestNetns;
  address: string;
  podCIDR: string;
  podIP: string;
  exec: Exec;
}

/** A TCP server in a pod that answers each connection with the address it came from. */
const ECHO_SOURCE = 'require("net").createServer((s) => s.end(s.remoteAddress)).listen(8080, "0.0.0.0", () => console.log("listening"))';
const CONNECT = (ip: string) => `const s = require("net").connect(8080, "${ip}"); let d = ""; s.on("data", (b) => d += b);`
  + ' s.on("end", () => { console.log(d); process.exit(0); }); s.on("error", (e) => { console.error(e.message); process.exit(1); });'
  + ' setTimeout(() => process.exit(2), 3000);';

describeE2e('the vxlan pod network across nodes on different subnets', () => {
  let server: NatsServer;
  let bus: Bus;
  let routes: ObjectStore;
  let router: TestNetns;
  const nodes: TestNode[] = [];
  const servers: ChildProcess[] = [];
  let syncs: RouteSync[] = [];
  const logs: { level: string; msg: string; o: object }[] = [];
  const log = {
    info: (o: object, msg: string) => { logs.push({ level: 'info', msg, o }); },
    warn: (o: object, msg: string) => { logs.push({ level: 'warn', msg, o }); },
  };

  const must = async (ns: TestNetns, cmd: string[]): Promise<string> => {
    const r = await ns.run(cmd);
    if (r.code !== 0) throw new Error(`in ${ns.name}: ${cmd.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const ping = async (from: TestNode, to: TestNode): Promise<boolean> =>
    (await from.pod.run(['busybox', 'ping', '-c', '1', '-W', '1', to.podIP])).code === 0;
  const startSyncs = async (mode: 'host-gw' | 'vxlan', which = nodes): Promise<void> => {
    syncs = await Promise.all(which.map((t) => startRouteSync({
      routes, nodeName: t.name, podCIDR: () => t.podCIDR, log, mode, localIP: t.address, exec: t.exec, addresses: () => [t.address], resyncMs: 600_000,
    })));
  };
  const stopSyncs = async (): Promise<void> => {
    await Promise.all(syncs.map((s) => s.stop()));
    syncs = [];
  };

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await connectBus({ servers: server.url, name: 'vxlan-e2e' });
    routes = await ObjectStore.open(bus, { bucket: NODE_ROUTES_BUCKET, history: 1 });
    router = await createNetns('mkvx-r');
    await must(router, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    for (const n of [1, 2, 3]) {
      const t: TestNode = {
        n, name: `n${n}`, ns: await createNetns(`mkvx-n${n}`), pod: await createNetns(`mkvx-p${n}`),
        address: `172.31.${n}.2`, podCIDR: `10.244.${n}.0/24`, podIP: `10.244.${n}.2`, exec: async () => '',
      };
      nodes.push(t);
      t.exec = execVia(['nsenter', `--net=${t.ns.path}`, '--']);
      // node <-> router, each pair its own subnet
      await must(t.ns, ['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `r${n}`, 'netns', router.path]);
      await must(t.ns, ['ip', 'addr', 'add', `${t.address}/24`, 'dev', 'eth0']);
      await must(t.ns, ['ip', 'link', 'set', 'eth0', 'up']);
      await must(t.ns, ['ip', 'route', 'add', '172.31.0.0/16', 'via', `172.31.${n}.1`]);
      await must(t.ns, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
      await must(router, ['ip', 'addr', 'add', `172.31.${n}.1/24`, 'dev', `r${n}`]);
      await must(router, ['ip', 'link', 'set', `r${n}`, 'up']);
      // the node's pod bridge and one pod on it
      await must(t.ns, ['ip', 'link', 'add', 'mkpod0', 'type', 'bridge']);
      await must(t.ns, ['ip', 'addr', 'add', `10.244.${n}.1/24`, 'dev', 'mkpod0']);
      await must(t.ns, ['ip', 'link', 'set', 'mkpod0', 'up']);
      await must(t.ns, ['ip', 'link', 'add', 'vpod', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', t.pod.path]);
      await must(t.ns, ['ip', 'link', 'set', 'vpod', 'master', 'mkpod0', 'up']);
      await must(t.pod, ['ip', 'addr', 'add', `${t.podIP}/24`, 'dev', 'eth0']);
      await must(t.pod, ['ip', 'link', 'set', 'eth0', 'up']);
      await must(t.pod, ['ip', 'route', 'add', 'default', 'via', `10.244.${n}.1`]);
    }
    // The underlay works: every node reaches every other node's address through the router.
    for (const a of nodes) for (const b of nodes) if (a !== b) expect((await a.ns.run(['busybox', 'ping', '-c', '1', '-W', '2', b.address])).code).toBe(0);
  });

  afterAll(async () => {
    await stopSyncs().catch(() => undefined);
    for (const s of servers) if (s.pid && s.exitCode === null) signal(s.pid, 'SIGKILL');
    for (const t of nodes) {
      await t.pod.destroy().catch(() => undefined);
      await t.ns.destroy().catch(() => undefined);
    }
    await router?.destroy().catch(() => undefined);
    await bus?.close();
    await server?.stop();
  });

  it('host-gw cannot route between nodes that share no L2 segment, and says to use vxlan', async () => {
    for (const t of nodes) await routes.put(t.name, { name: t.name, podCIDR: t.podCIDR, internalIP: t.address } satisfies NodeRoute);
    await startSyncs('host-gw');
    for (const t of nodes) expect(await listPodRoutes(t.exec)).toEqual([]);
    const refused = logs.filter((l) => l.level === 'warn' && l.msg.startsWith('pod routes not all updated')).map((l) => String((l.o as { err: string }).err));
    expect(refused.length).toBe(3);
    for (const e of refused) expect(e).toContain('run the cluster with --pod-network vxlan');
    expect(await ping(nodes[0], nodes[1])).toBe(false);
    await stopSyncs();
  });

  it('carries pod-to-pod traffic over vxlan with the sender\'s pod IP as its source', async () => {
    // As each agent does before it registers: make the device, report its MAC.
    for (const t of nodes) {
      const dev = await ensureVxlanDevice(t.address, t.exec);
      expect(dev.mtu).toBe(1450);
      await routes.put(t.name, { name: t.name, podCIDR: t.podCIDR, internalIP: t.address, vtepMAC: dev.mac } satisfies NodeRoute);
    }
    await startSyncs('vxlan');
    const [n1, n2, n3] = nodes;
    const link = JSON.parse(await n1.exec('ip', ['-j', '-d', 'link', 'show', 'dev', VXLAN_DEVICE]))[0];
    expect(link.linkinfo.info_data).toMatchObject({ id: 1, port: 8472, learning: false, local: n1.address, link: 'eth0' });
    expect(await listPodRoutes(n1.exec)).toEqual([
      { dst: n2.podCIDR, via: '10.244.2.0', onlink: true }, { dst: n3.podCIDR, via: '10.244.3.0', onlink: true },
    ]);
    const e1 = await listVxlanEntries(n1.exec);
    expect(e1.neighbors.map((x) => x.ip).sort()).toEqual(['10.244.2.0', '10.244.3.0']);
    expect(e1.fdb.map((x) => x.dst).sort()).toEqual([n2.address, n3.address]);

    for (const [a, b] of [[n1, n2], [n1, n3], [n2, n3], [n3, n1]]) {
      expect(await waitFor(`ping ${a.name} -> ${b.name}`, () => ping(a, b), 10_000, 100)).toBe(true);
    }
    // A TCP server in pod 2 answers with the address the connection came from.
    const echo = spawn('nsenter', [`--net=${n2.pod.path}`, '--', process.execPath, '-e', ECHO_SOURCE], { stdio: ['ignore', 'pipe', 'pipe'] });
    servers.push(echo);
    await new Promise<void>((resolve, reject) => {
      echo.stdout!.once('data', () => resolve());
      echo.once('exit', (c) => reject(new Error(`echo server exited ${c}`)));
    });
    for (const from of [n1, n3]) {
      const r = await from.pod.run([process.execPath, '-e', CONNECT(n2.podIP)]);
      expect({ code: r.code, source: r.stdout.trim() }).toEqual({ code: 0, source: from.podIP });
    }
  });

  it('a restarted sync finds its entries and changes nothing', async () => {
    await stopSyncs();
    logs.length = 0;
    await startSyncs('vxlan');
    expect(logs.filter((l) => l.msg.includes('updated'))).toEqual([]);
  });

  it('removes exactly a gone node\'s neighbor, FDB entry and route on the others', async () => {
    const [n1, n2, n3] = nodes;
    const before = await listVxlanEntries(n1.exec);
    await routes.delete('n3');
    for (const t of [n1, n2]) {
      await waitFor(`${t.name} forgets n3`, async () => (await listPodRoutes(t.exec)).every((r) => r.dst !== n3.podCIDR), 10_000, 100);
    }
    const after = await listVxlanEntries(n1.exec);
    expect(after.neighbors).toEqual(before.neighbors.filter((x) => x.ip !== '10.244.3.0'));
    expect(after.fdb).toEqual(before.fdb.filter((x) => x.dst !== n3.address));
    expect(await listPodRoutes(n1.exec)).toEqual([{ dst: n2.podCIDR, via: '10.244.2.0', onlink: true }]);
    expect((await listVxlanEntries(n2.exec)).fdb.map((x) => x.dst)).toEqual([n1.address]);
    expect(await ping(n1, n2)).toBe(true);
    expect(await ping(n1, n3)).toBe(false);
  });

  it('a node switched to host-gw removes its device, and with it the overlay\'s entries and routes', async () => {
    await stopSyncs();
    const [n1] = nodes;
    await startSyncs('host-gw', [n1]);
    expect((await n1.ns.run(['ip', 'link', 'show', 'dev', VXLAN_DEVICE])).code).not.toBe(0);
    expect((await listPodRoutes(n1.exec)).filter((r) => r.onlink)).toEqual([]);
    // The others keep theirs.
    expect((await listVxlanEntries(nodes[1].exec)).fdb.map((x) => x.dst)).toEqual([n1.address]);
  });

  it('teardown leaves no mk device, route, neighbor, FDB entry or chain', async () => {
    await stopSyncs();
    for (const t of nodes) {
      await removePodRoutes(t.exec);
      expect((await t.ns.run(['ip', 'link', 'show', 'dev', VXLAN_DEVICE])).code).not.toBe(0);
      expect((await must(t.ns, ['ip', 'route', 'show', 'proto', '77'])).trim()).toBe('');
      expect(await listVxlanEntries(t.exec)).toEqual({ neighbors: [], fdb: [] });
      expect(await must(t.ns, ['iptables', '-t', 'nat', '-S'])).not.toContain('MK-POD-NETWORK');
    }
  });
});
