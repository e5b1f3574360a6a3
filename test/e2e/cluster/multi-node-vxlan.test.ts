/**
 * `mk up --nodes 3 --pod-network vxlan` end to end: each node makes its mk.vxlan device, reports
 * its MAC on its Node, and reaches the other nodes' pods through the overlay (routes via the
 * device, no host-gw route between nodes); pods see each other's own addresses; the cluster keeps
 * its pod network (another one is refused) and `mk down` leaves nothing.
 */
import type { Node, Pod } from '../../../messages';
import { SERVICE_DEVICE } from '../../../node-agent/network/service-route';
import { canRunE2e, startMultiNodeCluster, waitFor, type MultiNodeCluster } from '../../helpers/multi-node';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(900_000);

/** A busybox pod on `node` serving /etc over HTTP on 8080, logging each client's address. */
const podYaml = (name: string, node: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: busybox
      command: ["httpd", "-f", "-vv", "-p", "8080", "-h", "/etc"]
      resources: { requests: { cpu: 100m, memory: 16Mi } }
`;

describeE2e('mk up --nodes 3 --pod-network vxlan', () => {
  let c: MultiNodeCluster;

  beforeAll(async () => {
    c = await startMultiNodeCluster({ nodes: 3, upArgs: ['--pod-network', 'vxlan'] });
  });
  afterAll(async () => { await c?.destroy(); });

  it('gives every node a vxlan device whose MAC its Node reports', async () => {
    const nodes: Node[] = await c.waitNodesReady();
    for (const n of nodes) {
      const mac = n.metadata.annotations?.['mk.io/vxlan-vtep-mac'];
      expect(n.metadata.annotations?.['mk.io/pod-network']).toBe('vxlan');
      const link = await c.runOnNode(n.metadata.name, ['ip', '-j', '-d', 'link', 'show', 'dev', 'mk.vxlan']);
      expect(link.code).toBe(0);
      const dev = JSON.parse(link.stdout)[0];
      const ip = n.status!.addresses!.find((a) => a.type === 'InternalIP')!.address;
      expect(dev.address).toBe(mac);
      expect(dev.linkinfo.info_data).toMatchObject({ id: 1, port: 8472, learning: false, local: ip, link: 'eth0' });
    }
  });

  it('carries pod-to-pod traffic across nodes through the overlay, keeping the sender\'s address', async () => {
    const r = await c.mk(['apply', '-f', '-'], { stdin: [podYaml('a', 'node'), podYaml('b', 'node-2'), podYaml('c', 'node-3')].join('---\n') });
    expect(r.code).toBe(0);
    const pods: Pod[] = [await c.waitPodPhase('a', 'Running'), await c.waitPodPhase('b', 'Running'), await c.waitPodPhase('c', 'Running')];
    const ipOf = (name: string) => pods.find((p) => p.metadata.name === name)!.status!.podIP!;
    for (const [from, to] of [['a', 'b'], ['b', 'c'], ['c', 'a']]) {
      const res = await waitFor(`HTTP from ${from} to ${to}`, async () => {
        const x = await c.mk(['exec', from, '--', 'sh', '-c', `printf 'GET /group HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ipOf(to)} 8080`], { timeoutMs: 20_000 });
        return x.code === 0 && x.stdout.includes('200 OK') ? x : null;
      }, 60_000);
      expect(res.stdout).toContain('root:x:0:');
      const logs = await c.mk(['logs', to]);
      expect(logs.stdout + logs.stderr).toMatch(new RegExp(`\\b${ipOf(from).replace(/\./g, '\\.')}\\]?:\\d+: url:/group`));
    }
    // The node's routes to the other nodes' pods all go through the device, onlink via their VTEPs.
    const nodes = await c.getNodes();
    // (The service CIDR's route to its own device is mk's too: node-agent/network/service-route.ts.)
    const routes = (await c.runOnNode('node', ['ip', 'route', 'show', 'proto', '77'])).stdout.trim().split('\n').map((l) => l.trim())
      .filter((l) => !l.includes(`dev ${SERVICE_DEVICE}`)).sort();
    expect(routes).toEqual(nodes.filter((n) => n.metadata.name !== 'node').map((n) => {
      const cidr = n.spec!.podCIDR!;
      return `${cidr} via ${cidr.split('/')[0]} dev mk.vxlan onlink`;
    }).sort());
    // The pods' MTU is the device's, so what they send fits in the tunnel.
    const mtu = await c.mk(['exec', 'a', '--', 'cat', '/sys/class/net/eth0/mtu']);
    expect(mtu.stdout.trim()).toBe(String(JSON.parse((await c.runOnNode('node', ['ip', '-j', 'link', 'show', 'dev', 'mk.vxlan'])).stdout)[0].mtu));
    const fdb = (await c.runOnNode('node', ['bridge', 'fdb', 'show', 'dev', 'mk.vxlan'])).stdout;
    for (const n of nodes.filter((x) => x.metadata.name !== 'node')) {
      expect(fdb).toContain(`${n.metadata.annotations!['mk.io/vxlan-vtep-mac']} dst ${n.status!.addresses!.find((a) => a.type === 'InternalIP')!.address} self permanent`);
    }
  });

  it('keeps its pod network: another one is refused', async () => {
    const r = await c.mk(['up', '--pod-network', 'host-gw', '--no-demo']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('runs the vxlan pod network; it cannot be started with --pod-network host-gw');
  });

  it('mk down leaves no namespace, link, mount or process behind', async () => {
    const down = await c.mk(['down'], { timeoutMs: 180_000 });
    expect(down.code).toBe(0);
    expect(await c.hostState()).toEqual({ netns: [], links: ['lo'], mounts: [], processes: [], cgroups: [] });
  });
});
