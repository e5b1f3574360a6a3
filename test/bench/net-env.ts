/**
 * What the networking benchmarks stand on: a "node" network namespace with a pod bridge
 * (10.244.1.1/24), pods as namespaces with a veth on it, a client host on a routed veth of its
 * own (192.168.77.2), and a fixed ServiceNetworkSource the service proxy follows. Everything made
 * is recorded and removed by `cleanup()`, which also runs on SIGINT and SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createNetns, type TestNetns } from '../helpers/netns';
import type { EndpointSliceView, ServiceNetworkChange, ServiceNetworkSource, ServiceView } from '../../node-agent/service-network/types';

/** The node's bridge address (the pods' gateway). */
export const GATEWAY = '10.244.1.1';
/** The client host's address and the node's address towards it. */
export const CLIENT_IP = '192.168.77.2';
export const NODE_IP = '192.168.77.1';

const namespaces: TestNetns[] = [];
const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
let hooked = false;

/** Runs `f` at cleanup, before the processes are killed and the namespaces deleted. */
export function onCleanup(f: () => Promise<void>): void { cleanups.push(f); }

/** Stops every process started here (by pid) and deletes every namespace made here. */
export async function cleanup(): Promise<void> {
  for (const f of cleanups.splice(0).reverse()) await f().catch(() => undefined);
  for (const c of children.splice(0)) {
    if (c.pid && c.exitCode === null && c.signalCode === null) {
      // SIGTERM first, so that a process can stop what it started (nginx); SIGKILL after 5 s.
      const gone = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    }
  }
  for (const ns of namespaces.splice(0).reverse()) await ns.destroy().catch(() => undefined);
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => { console.error(`${sig}: cleaning up ...`); void cleanup().finally(() => process.exit(130)); });
  }
}

/** Runs argv in `ns`; throws with its stderr on a non-zero exit. */
export async function sh(ns: TestNetns, cmd: string[]): Promise<string> {
  const r = await ns.run(cmd, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`${cmd.join(' ')} in ${ns.name}: ${r.stderr}`);
  return r.stdout;
}

/** A namespace removed at cleanup. */
export async function netns(prefix: string): Promise<TestNetns> {
  hook();
  const ns = await createNetns(prefix);
  namespaces.push(ns);
  return ns;
}

/** The node: a namespace with the pod bridge and forwarding on. */
export async function nodeNs(): Promise<TestNetns> {
  const node = await netns('mkbn-node');
  await sh(node, ['ip', 'link', 'add', 'mkbr0', 'type', 'bridge']);
  await sh(node, ['ip', 'addr', 'add', `${GATEWAY}/24`, 'dev', 'mkbr0']);
  await sh(node, ['ip', 'link', 'set', 'mkbr0', 'up']);
  await sh(node, ['sysctl', '-w', 'net.ipv4.ip_forward=1']);
  return node;
}

/** A pod at `ip` (10.244.1.x) on the node's bridge, as the CNI bridge plugin makes one. */
export async function podNs(node: TestNetns, name: string, ip: string): Promise<TestNetns> {
  const ns = await netns(`mkbn-${name}`);
  const veth = `v${name}`;
  await sh(node, ['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name]);
  await sh(node, ['ip', 'link', 'set', veth, 'master', 'mkbr0', 'up']);
  await sh(node, ['ip', 'link', 'set', veth, 'type', 'bridge_slave', 'hairpin', 'on']);
  await sh(ns, ['ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
  await sh(ns, ['ip', 'link', 'set', 'eth0', 'up']);
  await sh(ns, ['ip', 'route', 'add', 'default', 'via', GATEWAY]);
  return ns;
}

/** A client host routed to the node (pod and service addresses go through it). */
export async function clientNs(node: TestNetns): Promise<TestNetns> {
  const ns = await netns('mkbn-client');
  await sh(node, ['ip', 'link', 'add', 'vclient', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name]);
  await sh(node, ['ip', 'addr', 'add', `${NODE_IP}/30`, 'dev', 'vclient']);
  await sh(node, ['ip', 'link', 'set', 'vclient', 'up']);
  await sh(ns, ['ip', 'addr', 'add', `${CLIENT_IP}/30`, 'dev', 'eth0']);
  await sh(ns, ['ip', 'link', 'set', 'eth0', 'up']);
  await sh(ns, ['ip', 'route', 'add', 'default', 'via', NODE_IP]);
  return ns;
}

/**
 * Starts `node ...args` in `ns` (`['-e', script]` for a script) and waits for the line `ready`
 * on its stdout; killed at cleanup. Its later stdout is collected by `output()`.
 */
export async function startIn(ns: TestNetns, args: string[]): Promise<{ child: ChildProcess; output(): string }> {
  const child = spawn('nsenter', [`--net=${ns.path}`, '--', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`a process in ${ns.name} did not get ready: ${err}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) { clearTimeout(timer); resolve(); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`a process in ${ns.name} exited (${code}): ${err}`)); });
  });
  return { child, output: () => out };
}

/** Services and slices held in memory; `changed` tells the listeners, as an informer would. */
export class StaticSource implements ServiceNetworkSource {
  readonly svcs = new Map<string, ServiceView>();
  readonly slices = new Map<string, EndpointSliceView[]>();
  private listeners = new Set<(c: ServiceNetworkChange) => void>();
  services(): ServiceView[] { return [...this.svcs.values()]; }
  service(namespace: string, name: string): ServiceView | undefined { return this.svcs.get(`${namespace}/${name}`); }
  slicesOf(namespace: string, service: string): EndpointSliceView[] { return this.slices.get(`${namespace}/${service}`) ?? []; }
  onChange(listener: (c: ServiceNetworkChange) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }
  put(svc: ServiceView, slices: EndpointSliceView[]): void {
    const key = `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}`;
    this.svcs.set(key, svc);
    this.slices.set(key, slices);
  }
  changed(namespace: string, service: string): void { for (const l of this.listeners) l({ namespace, service }); }
}

/** A TCP service `name` at `clusterIP`:80 -> targetPort 8080, NodePort `nodePort` when given. */
export function serviceOf(name: string, clusterIP: string, nodePort?: number): ServiceView {
  return {
    metadata: { name, namespace: 'default' },
    spec: {
      type: nodePort ? 'NodePort' : 'ClusterIP', clusterIP,
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, ...(nodePort ? { nodePort } : {}) }],
    },
  };
}

/** One IPv4 slice of service `name` with the pods at `ips`, port 8080, on node n1. */
export function sliceOf(name: string, ips: string[]): EndpointSliceView {
  return {
    metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n1' })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}
