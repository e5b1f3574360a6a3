/**
 * Services through faults on `mk up --nodes 3`, with pods that really run: a Deployment behind a
 * ClusterIP Service rolls (maxSurge 1, maxUnavailable 0, a preStop hook) while a client pod asks
 * it without a pause, and no request fails; a node agent SIGKILLed while services change leaves
 * its pods serving through the rules it wrote, and once back its proxy matches the services again
 * and its DNS answers; nats-server SIGKILLed and restarted leaves service IPs working, and what
 * changes afterwards reaches every node; 30 Services made at once all get an address, endpoints
 * and an answer.
 */
import type { Pod } from '../../../messages';
import { gatewayOf } from '../../../node-agent/network/cni';
import { SERVICE_DEVICE } from '../../../node-agent/network/service-route';
import { endpointChain, serviceChains, servicePortName } from '../../../node-agent/proxy/chains';
import { canRunE2e, startMultiNodeCluster, waitFor, type MultiNodeCluster } from '../../helpers/multi-node';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(900_000);

interface Svc { metadata: { name: string }; spec: { clusterIP?: string } }
interface Slice { metadata: { labels?: Record<string, string> }; endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }

/** A Deployment of busybox httpd answering `version` on port 80. */
const deployment = (version: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: web } }
  strategy:
    type: RollingUpdate
    rollingUpdate: { maxSurge: 1, maxUnavailable: 0 }
  template:
    metadata:
      labels: { app: web }
    spec:
      terminationGracePeriodSeconds: 15
      containers:
        - name: main
          image: busybox
          env: [{ name: VERSION, value: "${version}" }]
          command: ["sh", "-c", "mkdir -p /www && echo $VERSION > /www/index.html && exec httpd -f -p 80 -h /www"]
          readinessProbe:
            httpGet: { path: /, port: 80 }
            periodSeconds: 1
          lifecycle:
            preStop:
              exec: { command: ["sleep", "3"] }
          resources: { requests: { cpu: 20m, memory: 8Mi } }
`;

const service = (name: string) => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 80 }]
`;

/**
 * A pod that asks `ip`:80 again and again, one line per request (OK VERSION or FAIL) in /tmp/log.
 * It speaks HTTP through nc: the image's busybox is a static build whose wget crashes.
 */
const client = (name: string, ip: string, nodeName?: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  terminationGracePeriodSeconds: 1
${nodeName ? `  nodeName: ${nodeName}\n` : ''}  containers:
    - name: main
      image: busybox
      command: ["sh", "-c", ${JSON.stringify(`while true; do r=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${ip} 80 | tail -n 1); case "$r" in v*) echo "OK $r";; *) echo "FAIL $r";; esac >> /tmp/log; sleep 0.05; done`)}]
`;

describeE2e('services through faults on mk up --nodes 3', () => {
  let c: MultiNodeCluster;

  const mkOk = async (args: string[], stdin?: string): Promise<string> => {
    const r = await c.mk(args, { ...(stdin !== undefined ? { stdin } : {}), timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`mk ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const json = async <T>(args: string[]): Promise<T> => JSON.parse(await mkOk([...args, '-o', 'json'])) as T;
  const pods = async (selector: string): Promise<Pod[]> => (await json<{ items: Pod[] }>(['get', 'pods', '-l', selector])).items;
  const ready = (p: Pod) => !p.metadata.deletionTimestamp && (p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false);
  const readyWeb = (n: number, ms = 180_000) => waitFor(`${n} web pods ready`, async () => {
    const ps = await pods('app=web');
    return ps.length === n && ps.every(ready) ? ps : null;
  }, ms);
  const clusterIP = async (name: string): Promise<string> => {
    const s = await json<Svc>(['get', 'svc', name]);
    if (!s.spec.clusterIP) throw new Error(`service ${name} has no cluster IP`);
    return s.spec.clusterIP;
  };
  /** The nat table of a node, as iptables-save prints it. */
  const natOf = async (node: string): Promise<string> => {
    const r = await c.runOnNode(node, ['iptables-save', '-t', 'nat']);
    if (r.code !== 0) throw new Error(`iptables-save on ${node}: ${r.stderr}`);
    return r.stdout;
  };
  const svcChain = (name: string) => serviceChains(servicePortName('default', name, { port: 80 }, 'TCP')).svc;
  /** The MK-SVC chains the node's nat table declares. */
  const svcChains = (nat: string): Set<string> => new Set([...nat.matchAll(/^:(MK-SVC-[A-Z2-7]+) /gm)].map((m) => m[1]));
  /** What a node's own namespace gets from `http://IP/` (curl through the node's OUTPUT rules). */
  const fromNode = async (node: string, ip: string): Promise<string> => {
    const r = await c.runOnNode(node, ['curl', '-s', '-m', '2', `http://${ip}/`], { timeoutMs: 10_000 });
    return r.code === 0 ? r.stdout.trim() : `FAIL(${r.code})`;
  };

  beforeAll(async () => {
    c = await startMultiNodeCluster({ nodes: 3 });
    await c.waitNodesReady();
    await mkOk(['apply', '-f', '-'], `${deployment('v1', 4)}---\n${service('web')}`);
    await readyWeb(4);
    // The nodes' namespaces have no default route: each node agent routes the service CIDR to a
    // device of its own, so the node's own connections to a cluster IP reach its nat rules.
    for (const n of c.nodes) {
      await waitFor(`the route to the cluster IPs on ${n.name}`, async () => {
        const r = await c.runOnNode(n.name, ['ip', 'route', 'show', '10.96.0.0/12', 'proto', '77']);
        return r.stdout.includes(`dev ${SERVICE_DEVICE}`) ? true : null;
      }, 30_000);
    }
  });
  afterAll(async () => { await c?.destroy(); });

  it('rolls a Deployment behind a Service while a client asks it, and no request fails', async () => {
    const ip = await clusterIP('web');
    await mkOk(['apply', '-f', '-'], client('asker', ip));
    const log = async (): Promise<string[]> => {
      const r = await c.mk(['exec', 'asker', '--', 'cat', '/tmp/log']);
      return r.code === 0 ? r.stdout.split('\n').filter(Boolean) : [];
    };
    await waitFor('the client answered by v1', async () => ((await log()).filter((l) => l === 'OK v1').length >= 20 ? true : null), 120_000);

    await mkOk(['apply', '-f', '-'], deployment('v2', 4));
    await waitFor('the rollout complete, the old pods gone', async () => {
      const ps = await pods('app=web');
      if (ps.length !== 4 || !ps.every(ready)) return null;
      const envs = await Promise.all(ps.map(async (p) => (await mkOk(['exec', p.metadata.name, '--', 'cat', '/www/index.html'])).trim()));
      return envs.every((v) => v === 'v2') ? true : null;
    }, 240_000);
    const before = (await log()).length;
    await waitFor('the client asking after the rollout', async () => ((await log()).length >= before + 20 ? true : null), 60_000);
    const lines = await log();
    await mkOk(['delete', 'pod', 'asker', '--wait=false']);
    // Every pod was replaced while the client asked, several times a second.
    expect(lines.length).toBeGreaterThan(60);
    const failed = lines.filter((l) => !l.startsWith('OK '));
    expect({ failed: failed.slice(0, 10), count: failed.length }).toEqual({ failed: [], count: 0 });
    const versions = new Set(lines.map((l) => l.slice(3)));
    expect([...versions].sort()).toEqual(['v1', 'v2']);
    expect(lines[lines.length - 1]).toBe('OK v2');
  });

  it('keeps a killed node agent\'s pods serving; once back its proxy matches the services and its DNS answers', async () => {
    const node = 'node-2';
    const initial = ['keep-0', 'keep-1', 'gone-0', 'gone-1', 'gone-2'];
    await mkOk(['apply', '-f', '-'], initial.map(service).join('---\n'));
    await waitFor(`${node}'s proxy programming the services`, async () => {
      const chains = svcChains(await natOf(node));
      return ['web', ...initial].every((s) => chains.has(svcChain(s))) ? true : null;
    }, 60_000);
    const ip = await clusterIP('web');
    expect(await fromNode(node, ip)).toBe('v2');

    const local = (await pods('app=web')).filter((p) => ready(p) && p.spec.nodeName === node).map((p) => p.status!.podIP!);
    const pid = c.nodeAgentPid(node);
    expect(pid).toBeGreaterThan(0);
    // Services change while the agent is dead: 3 go, 10 come, the Deployment scales.
    process.kill(pid!, 'SIGKILL');
    const changes = Promise.all([
      mkOk(['delete', 'svc', 'gone-0', 'gone-1', 'gone-2']),
      mkOk(['apply', '-f', '-'], Array.from({ length: 10 }, (_, i) => service(`new-${i}`)).join('---\n')),
      mkOk(['scale', 'deployment', 'web', '--replicas', '6']),
    ]);
    // Until the supervisor brings it back (a second at least), the node's rules and pods answer.
    let during = 0;
    do {
      expect(await fromNode(node, ip)).toBe('v2');
      for (const podIP of local) expect(await fromNode(node, podIP)).toBe('v2');
      during++;
    } while (c.nodeAgentPid(node) === undefined);
    await changes;
    expect(during).toBeGreaterThan(1);

    const expected = ['web', 'keep-0', 'keep-1', ...Array.from({ length: 10 }, (_, i) => `new-${i}`)];
    const stale = ['gone-0', 'gone-1', 'gone-2'].map(svcChain);
    await waitFor(`${node}'s proxy converged on the services`, async () => {
      const chains = svcChains(await natOf(node));
      return expected.every((s) => chains.has(svcChain(s))) && stale.every((s) => !chains.has(s)) ? chains : null;
    }, 120_000);
    const six = await readyWeb(6);
    const webPort = servicePortName('default', 'web', { port: 80 }, 'TCP');
    await waitFor(`${node}'s proxy sending web to its 6 pods`, async () => {
      const nat = await natOf(node);
      return six.every((p) => nat.includes(`:${endpointChain(webPort, `${p.status!.podIP!}:80`)} `)) ? true : null;
    }, 60_000);
    const newIP = await clusterIP('new-7');
    expect(await fromNode(node, newIP)).toBe('v2');
    const nodeObj = await json<{ spec: { podCIDR: string } }>(['get', 'node', node]);
    const gateway = gatewayOf(nodeObj.spec.podCIDR);
    const answer = await waitFor(`${node}'s DNS answering for a new service`, async () => {
      const r = await c.runOnNode(node, ['busybox', 'nslookup', 'new-7.default.svc.cluster.local', gateway]);
      return r.code === 0 && r.stdout.includes(newIP) ? r.stdout : null;
    }, 60_000);
    expect(answer).toContain(newIP);
  });

  it('keeps service IPs working while nats-server is down; new services and endpoints reach every node after', async () => {
    const ip = await clusterIP('web');
    const before = c.childPid('nats');
    expect(before).toBeGreaterThan(0);
    process.kill(before!, 'SIGKILL');
    // The supervisor waits a second at least before it starts it again: the nodes answer meanwhile.
    let during = 0;
    do {
      for (const n of c.nodes) expect(await fromNode(n.name, ip)).toBe('v2');
      during++;
    } while (c.childPid('nats') === undefined || c.childPid('nats') === before);
    expect(during).toBeGreaterThan(1);
    await waitFor('the api answering again', async () => ((await c.mk(['get', 'ns'])).code === 0 ? true : null), 60_000);

    await mkOk(['apply', '-f', '-'], service('after-bus'));
    await mkOk(['scale', 'deployment', 'web', '--replicas', '3']);
    const ps = await readyWeb(3);
    const newIP = await clusterIP('after-bus');
    const portName = servicePortName('default', 'after-bus', { port: 80 }, 'TCP');
    const wanted = ps.map((p) => endpointChain(portName, `${p.status!.podIP!}:80`));
    for (const n of c.nodes) {
      await waitFor(`${n.name} programming after-bus with the 3 endpoints`, async () => {
        const nat = await natOf(n.name);
        const seps = new Set([...nat.matchAll(/^:(MK-SEP-[A-Z2-7]+) /gm)].map((m) => m[1]));
        return nat.includes(`:${svcChain('after-bus')} `) && wanted.every((s) => seps.has(s)) ? true : null;
      }, 60_000);
      expect(await fromNode(n.name, newIP)).toBe('v2');
    }
  });

  it('gives 30 Services made at once distinct cluster IPs, endpoints and answers', async () => {
    const names = Array.from({ length: 30 }, (_, i) => `burst-${i}`);
    await mkOk(['apply', '-f', '-'], names.map(service).join('---\n'));
    const ips = await waitFor('30 cluster IPs', async () => {
      const all = await Promise.all(names.map(async (n) => (await json<Svc>(['get', 'svc', n])).spec.clusterIP));
      return all.every(Boolean) ? all as string[] : null;
    }, 60_000);
    expect(new Set(ips).size).toBe(30);
    const web = (await pods('app=web')).filter(ready).map((p) => p.status!.podIP!).sort();
    await waitFor('every service\'s endpoints', async () => {
      const slices = (await json<{ items: Slice[] }>(['get', 'endpointslices'])).items;
      return names.every((n) => {
        const addrs = slices.filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === n)
          .flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses));
        return JSON.stringify(addrs.sort()) === JSON.stringify(web);
      }) ? true : null;
    }, 60_000);
    for (const n of c.nodes) {
      await waitFor(`every burst service answering on ${n.name}`, async () => {
        const got = await Promise.all(ips.map((ip) => fromNode(n.name, ip)));
        return got.every((g) => g === 'v2') ? true : null;
      }, 60_000);
    }
  });
});
