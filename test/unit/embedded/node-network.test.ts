import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { prepareClusterFiles, readCredentials } from '../../../embedded/credentials';
import { readContext } from '../../../embedded/context';
import { CHILDREN, clusterPaths, nodeAgentChild } from '../../../embedded/paths';
import { checkNodes } from '../../../embedded/start';
import { knownChildren } from '../../../embedded/supervise';
import { tlsPaths } from '../../../embedded/tls';
import { applyTopology, resolveTopology } from '../../../embedded/topology';
import { clusterNodeNames, hostAddressOf, nodeNames, planNodeNetwork, subnetConflicts } from '../../../embedded/node-network';

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-topo-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

describe('planNodeNetwork', () => {
  it('gives the host .1 and node i the address .10+i, each node a namespace, a veth and a data dir of its own', () => {
    const t = planNodeNetwork({ dataDir: dir, subnet: '172.30.0.0/24', firstNode: 'laptop', count: 3 });
    expect(t.hostAddress).toBe('172.30.0.1');
    expect(t.prefix).toBe(24);
    expect(t.nodes.map((n) => [n.name, n.address])).toEqual([['laptop', '172.30.0.11'], ['laptop-2', '172.30.0.12'], ['laptop-3', '172.30.0.13']]);
    expect(new Set(t.nodes.map((n) => n.netns)).size).toBe(3);
    expect(new Set(t.nodes.map((n) => n.cgroupRoot)).size).toBe(3);
    expect(t.nodes[2].cgroupRoot).toBe(`/${t.nodes[2].netns}`);
    expect(t.nodes[1].dataDir).toBe(path.join(dir, 'nodes', 'laptop-2'));
    expect(t.imagesDir).toBe(path.join(dir, 'images'));
    // Interface names fit the kernel's 15 characters, with room for the peer's temporary name.
    for (const n of t.nodes) expect(`${n.hostVeth}p`.length).toBeLessThanOrEqual(15);
    expect(t.bridge.length).toBeLessThanOrEqual(15);
  });

  it('names differ between data directories, so two clusters never share a namespace or a bridge', () => {
    const a = planNodeNetwork({ dataDir: path.join(dir, 'a'), subnet: '172.30.0.0/24', firstNode: 'n', count: 2 });
    const b = planNodeNetwork({ dataDir: path.join(dir, 'b'), subnet: '172.30.0.0/24', firstNode: 'n', count: 2 });
    expect(a.bridge).not.toBe(b.bridge);
    expect(a.nodes[0].netns).not.toBe(b.nodes[0].netns);
  });

  it('refuses a malformed or too small subnet, one overlapping the pod network, and a bad count', () => {
    const plan = (subnet: string, count = 3) => () => planNodeNetwork({ dataDir: dir, subnet, firstNode: 'n', count });
    expect(plan('172.30.0.0')).toThrow(/--node-subnet "172.30.0.0" is not an IPv4 CIDR/);
    expect(plan('192.168.5.0/28', 5)).toThrow(/too small for 5 nodes/);
    expect(plan('192.168.5.0/28', 4)).not.toThrow();
    expect(plan('10.244.3.0/24')).toThrow(/overlaps the pod network/);
    expect(plan('172.30.0.0/24', 0)).toThrow(/--nodes must be a whole number from 1 to 50/);
    // Against the pod network --cluster-cidr gives, when it gives one.
    const other = (subnet: string) => () => planNodeNetwork({ dataDir: dir, subnet, firstNode: 'n', count: 3, clusterCidr: '10.50.0.0/16' });
    expect(other('10.244.3.0/24')).not.toThrow();
    expect(other('10.50.7.0/24')).toThrow(/--node-subnet 10.50.7.0\/24 overlaps the pod network 10.50.0.0\/16/);
    expect(() => planNodeNetwork({ dataDir: dir, subnet: '172.30.0.0/24', firstNode: 'n', count: 3, clusterCidr: '172.0.0.0/8' }))
      .toThrow(/overlaps the pod network 172.0.0.0\/8/);
  });

  it('keeps every node name a DNS-1123 label', () => {
    const long = 'a'.repeat(63);
    for (const n of nodeNames(long, 12)) expect(n.length).toBeLessThanOrEqual(63);
    expect(nodeNames('x', 3)).toEqual(['x', 'x-2', 'x-3']);
    expect(hostAddressOf('10.9.8.0/24')).toBe('10.9.8.1');
  });
});

describe('subnetConflicts', () => {
  it('finds other links on an overlapping network, never the cluster\'s own bridge nor loopback', () => {
    const t = { subnet: '172.30.0.0/24', bridge: 'mkbrabc123' };
    const addrs = [
      { link: 'lo', address: '127.0.0.1', prefix: 8 },
      { link: 'mkbrabc123', address: '172.30.0.1', prefix: 24 },
      { link: 'eth0', address: '192.168.1.5', prefix: 24 },
      { link: 'mkbrother', address: '172.30.0.1', prefix: 24 },
      { link: 'vpn0', address: '172.16.0.2', prefix: 12 },
    ];
    expect(subnetConflicts(t, addrs).map((a) => a.link)).toEqual(['mkbrother', 'vpn0']);
    expect(subnetConflicts({ subnet: '172.31.5.0/24', bridge: 'x' }, addrs.slice(0, 4))).toEqual([]);
  });
});

describe('prepareClusterFiles with several nodes', () => {
  it('makes one identity per node and puts the bus on the bridge address only', () => {
    const paths = clusterPaths(dir);
    const creds = prepareClusterFiles(paths, { nodeName: 'n1', nodes: 3 });
    expect(Object.keys(creds.users).sort()).toEqual(['admin', 'control-plane', 'dashboard', 'dashboard-write', 'gateway', 'node-n1', 'node-n1-2', 'node-n1-3']);
    expect(clusterNodeNames(creds)).toEqual(['n1', 'n1-2', 'n1-3']);
    expect(readContext(dir).servers).toEqual(['nats://172.30.0.1:4222']);
    const conf = fs.readFileSync(paths.natsConf, 'utf8');
    expect(conf).toContain('listen: "172.30.0.1:4222"');
    expect(conf).not.toContain('127.0.0.1');
    // Clients dial the bridge address over TLS: the server certificate names it, the context has the CA.
    const tls = tlsPaths(dir);
    expect(conf).toContain(`cert_file: ${JSON.stringify(tls.serverChain)}`);
    expect(new X509Certificate(fs.readFileSync(tls.serverCert)).subjectAltName).toContain('IP Address:172.30.0.1');
    expect(readContext(dir).caFile).toBe(tls.caCert);
  });

  it('with an advertise address listens on every address, and the certificate names it and the bridge', () => {
    const paths = clusterPaths(dir);
    prepareClusterFiles(paths, { nodeName: 'n1', nodes: 2, advertiseAddress: '10.9.9.9' });
    const conf = fs.readFileSync(paths.natsConf, 'utf8');
    expect(conf).toContain('listen: "0.0.0.0:4222"');
    expect(conf).toContain('client_advertise: "10.9.9.9:4222"');
    const sans = new X509Certificate(fs.readFileSync(tlsPaths(dir).serverCert)).subjectAltName;
    expect(sans).toContain('IP Address:10.9.9.9');
    expect(sans).toContain('IP Address:172.30.0.1');
    expect(readContext(dir).servers).toEqual(['nats://172.30.0.1:4222']);
  });

  it('with --nats-servers 3 puts every member on the bridge (routes on loopback) and gives the context all three', async () => {
    const paths = clusterPaths(dir);
    // Not refused for the NATS servers (root and this machine's links may still be).
    const refusal = await checkNodes(paths, { nodes: 3, topology: { natsServers: 3 } }).then(() => '', (e: Error) => e.message);
    expect(refusal).not.toMatch(/NATS|nats-servers/);
    const t = resolveTopology(paths, { natsServers: 3 });
    const creds = prepareClusterFiles(paths, { nodeName: 'n1', nodes: 3, nodeSubnet: '172.31.0.0/24' });
    const members = applyTopology(paths, creds, t);
    expect(readContext(dir).servers).toEqual(['nats://172.31.0.1:4222', 'nats://172.31.0.1:4223', 'nats://172.31.0.1:4224']);
    for (const m of members) {
      const conf = fs.readFileSync(m.confFile, 'utf8');
      expect(conf).toContain(`listen: "172.31.0.1:${m.clientPort}"`);
      expect(conf).toMatch(new RegExp(`cluster \\{\n  name: "mk"\n  listen: "127\\.0\\.0\\.1:${m.routePort}"`));
      expect(conf.match(/@127\.0\.0\.1:\d+"/g)).toHaveLength(2);
    }
    // Node agents dial the bridge address over TLS: the certificate names it.
    expect(new X509Certificate(fs.readFileSync(tlsPaths(dir).serverCert)).subjectAltName).toContain('IP Address:172.31.0.1');
    // A resume keeps all three on the bridge.
    applyTopology(paths, prepareClusterFiles(paths, { nodeName: 'n1' }), resolveTopology(paths, {}));
    expect(readContext(dir).servers).toHaveLength(3);
    expect(readContext(dir).servers.every((u) => u.startsWith('nats://172.31.0.1:'))).toBe(true);
  });

  it('resumes with the count it was made with, and refuses another count or subnet without writing anything', () => {
    const paths = clusterPaths(dir);
    const first = prepareClusterFiles(paths, { nodeName: 'n1', nodes: 3, nodeSubnet: '172.31.0.0/24' });
    expect(prepareClusterFiles(paths, { nodeName: 'n1' })).toEqual(first);
    const before = fs.readFileSync(paths.credentials, 'utf8');
    expect(() => prepareClusterFiles(paths, { nodeName: 'n1', nodes: 2 })).toThrow(/has 3 nodes; it cannot be started with --nodes 2/);
    expect(() => prepareClusterFiles(paths, { nodeName: 'n1', nodeSubnet: '172.30.0.0/24' })).toThrow(/uses node subnet 172.31.0.0\/24/);
    expect(fs.readFileSync(paths.credentials, 'utf8')).toBe(before);
    expect(readCredentials(paths)?.nodes).toBe(3);
  });

  it('a single-node cluster cannot become several, nor take a subnet', () => {
    const paths = clusterPaths(dir);
    prepareClusterFiles(paths, { nodeName: 'n1' });
    expect(() => prepareClusterFiles(paths, { nodeName: 'n1', nodes: 3 })).toThrow(/has 1 node; it cannot be started with --nodes 3/);
    expect(() => prepareClusterFiles(paths, { nodeName: 'n1', nodeSubnet: '172.30.0.0/24' })).toThrow(/--node-subnet needs --nodes 2 or more/);
    expect(prepareClusterFiles(paths, { nodeName: 'n1', nodes: 1 }).nodes).toBeUndefined();
  });
});

describe('the node agents of a supervisor', () => {
  it('are node-agent, node-agent-2, ...; leftovers of other nodes are found by their pid files', () => {
    expect([1, 2, 3].map(nodeAgentChild)).toEqual(['node-agent', 'node-agent-2', 'node-agent-3']);
    const paths = clusterPaths(dir);
    expect(knownChildren(paths)).toEqual([...CHILDREN]);
    fs.mkdirSync(paths.runDir, { recursive: true });
    for (const f of ['node-agent-3.pid', 'node-agent-2.pid', 'up.pid', 'node-agent-x.pid']) fs.writeFileSync(path.join(paths.runDir, f), '1\n');
    expect(knownChildren(paths)).toEqual([...CHILDREN, 'node-agent-2', 'node-agent-3']);
    expect(paths.log('node-agent-2')).toBe(path.join(dir, 'logs', 'node-agent-2.log'));
  });
});
