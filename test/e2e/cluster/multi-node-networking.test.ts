/**
 * Service networking end to end on `mk up --nodes 3`, with pods that really run: pod-to-pod
 * traffic across nodes keeps the sender's address; a ClusterIP Service spreads requests evenly over
 * six replicas on three nodes from every node; endpoints follow readiness and deletions; NodePort
 * answers on every node's address and refuses a taken or out-of-range port; a backend reaches
 * itself through its Service (hairpin); a Service without endpoints rejects at once; the cluster
 * DNS answers pods for services (search list, headless, SRV, NXDOMAIN); the ingress proxy routes by
 * host and path and answers 404 and 503 of its own (served by nginx where it is installed, as
 * `--ingress-proxy auto` chooses); `mk down` leaves nothing of mk's in the nodes' namespaces and
 * no nginx running.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from '../../../messages';
import { SERVICE_DEVICE } from '../../../node-agent/network/service-route';
import { canRunE2e, startMultiNodeCluster, waitFor, type MultiNodeCluster } from '../../helpers/multi-node';
import { runInNetns } from '../../helpers/netns';
import { runCommand } from '../../helpers/run';
import { findNginx } from '../../../node-agent/ingress/nginx';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(900_000);

/** A busybox pod pinned to `node` that only sleeps: the client requests are run in. */
const clientYaml = (name: string, node: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: { role: client }
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: busybox
      command: ["sleep", "3600"]
      resources: { requests: { cpu: 10m, memory: 8Mi } }
`;

/** httpd on 80 serving the pod's own name at `/` (and `/<sub>/` when given); ready while /tmp/ready exists. */
const serve = (sub = '') => `mkdir -p /www${sub ? `/${sub}` : ''} && hostname > /www/index.html${sub ? ` && hostname > /www/${sub}/index.html` : ''}`
  + ' && touch /tmp/ready && exec httpd -f -vv -p 80 -h /www';

const deploymentYaml = (name: string, replicas: number, command: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      terminationGracePeriodSeconds: 1
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: DoNotSchedule
          labelSelector: { matchLabels: { app: ${name} } }
      containers:
        - name: main
          image: busybox
          command: ["sh", "-c", ${JSON.stringify(command)}]
          ports: [{ name: http, containerPort: 80 }]
          readinessProbe:
            exec: { command: ["cat", "/tmp/ready"] }
            periodSeconds: 1
            failureThreshold: 1
          resources: { requests: { cpu: 10m, memory: 8Mi } }
`;

const serviceYaml = (name: string, selector: string, extra = '', port = '    - { name: http, port: 80, targetPort: http }') => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  selector: { ${selector} }
${extra}  ports:
${port}
`;

interface SliceShape {
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean }; targetRef?: { name?: string } }[];
}

describeE2e('service networking on mk up --nodes 3', () => {
  let c: MultiNodeCluster;
  /** Bind mounts holding the nodes' namespaces open past `mk down`, to look inside them after. */
  const holds: string[] = [];
  const holdDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-netns-hold-'));
  /** Each node's nginx master (the ingress proxy), where nginx is installed. */
  const nginxPids: number[] = [];
  const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

  const mkOk = async (args: string[], stdin?: string): Promise<string> => {
    const r = await c.mk(args, { ...(stdin !== undefined ? { stdin } : {}), timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`mk ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const json = async <T>(args: string[]): Promise<T> => JSON.parse(await mkOk([...args, '-o', 'json'])) as T;
  const pods = async (selector: string): Promise<Pod[]> => (await json<{ items: Pod[] }>(['get', 'pods', '-l', selector])).items;
  const ready = (p: Pod) => p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false;
  const clusterIP = async (svc: string): Promise<string> => (await json<{ spec: { clusterIP: string } }>(['get', 'svc', svc])).spec.clusterIP;
  /**
   * Runs `sh -c script` in a pod; the exec's own result. (busybox 1.35's `wget -T` crashes: the
   * scripts bound wget with `timeout` instead.)
   */
  const sh = (pod: string, script: string, timeoutMs = 60_000) => c.mk(['exec', pod, '--', 'sh', '-c', script], { timeoutMs });
  /** `n` GETs of `url` from `pod`, one wget each: the bodies (one line each), `FAIL` for a failed request. */
  const requests = async (pod: string, url: string, n: number): Promise<string[]> => {
    const r = await sh(pod, `i=0; while [ $i -lt ${n} ]; do timeout 5 wget -O - ${url} 2>/dev/null || echo FAIL; i=$((i+1)); done`, 180_000);
    if (r.code !== 0) throw new Error(`requests from ${pod}: exit ${r.code}: ${r.stderr}`);
    return r.stdout.trim().split('\n').map((l) => l.trim());
  };
  const count = (xs: string[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
    return m;
  };
  const webSlice = async (): Promise<SliceShape> => {
    const list = await json<{ items: SliceShape[] }>(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web']);
    return { endpoints: list.items.flatMap((s) => s.endpoints ?? []) };
  };
  /** Fetches from the host namespace (the machine outside the nodes), with a Host header when given. */
  const hostGet = (url: string, host?: string) =>
    c.run(['curl', '-s', '-m', '5', '-o', '-', '-w', '\n%{http_code}', ...(host ? ['-H', `Host: ${host}`] : []), url], { timeoutMs: 15_000 });

  beforeAll(async () => {
    c = await startMultiNodeCluster({ nodes: 3 });
    await c.waitNodesReady();
    await mkOk(['apply', '-f', '-'], [clientYaml('client-1', 'node'), clientYaml('client-2', 'node-2'), clientYaml('client-3', 'node-3')].join('---\n'));
    for (const p of ['client-1', 'client-2', 'client-3']) await c.waitPodPhase(p, 'Running', 180_000);
  });
  afterAll(async () => {
    await c?.destroy();
    for (const h of holds) await runCommand(['umount', h], { timeoutMs: 10_000 }).catch(() => undefined);
    fs.rmSync(holdDir, { recursive: true, force: true });
  });

  it('carries pod-to-pod traffic across nodes with the client\'s own address as the source', async () => {
    const echo = (name: string, node: string) => clientYaml(name, node).replace('["sleep", "3600"]', '["httpd", "-f", "-vv", "-p", "8080", "-h", "/etc"]');
    await mkOk(['apply', '-f', '-'], [echo('echo-2', 'node-2'), echo('echo-3', 'node-3')].join('---\n'));
    const client = await c.getPod('client-1');
    for (const name of ['echo-2', 'echo-3']) {
      const target = await c.waitPodPhase(name, 'Running', 120_000);
      const body = await waitFor(`HTTP from client-1 to ${name}`, async () => {
        const r = await sh('client-1', `timeout 5 wget -O - http://${target.status!.podIP}:8080/group 2>/dev/null`, 20_000);
        return r.code === 0 ? r.stdout : null;
      }, 60_000);
      expect(body).toContain('root:x:0:');
      const logs = await c.mk(['logs', name]);
      expect(logs.stdout + logs.stderr).toMatch(new RegExp(`\\b${client.status!.podIP!.replace(/\./g, '\\.')}\\]?:\\d+: url:/group`));
    }
    await mkOk(['delete', 'pod', 'echo-2', 'echo-3', '--grace-period', '0']);
  });

  it('balances a ClusterIP Service over six replicas on three nodes, from a client on every node', async () => {
    await mkOk(['apply', '-f', '-'], `${deploymentYaml('web', 6, serve())}---\n${serviceYaml('web', 'app: web')}`);
    const backends = await waitFor('six ready web pods', async () => {
      const ps = (await pods('app=web')).filter((p) => !p.metadata.deletionTimestamp);
      return ps.length === 6 && ps.every(ready) ? ps : null;
    }, 240_000);
    // The spread constraint puts two on each node.
    const perNode = count(backends.map((p) => p.spec.nodeName!));
    expect([...perNode.values()]).toEqual([2, 2, 2]);
    const ep = await waitFor('six ready addresses in the Endpoints', async () => {
      const e = await json<{ subsets?: { addresses?: { ip: string }[] }[] }>(['get', 'endpoints', 'web']);
      const ips = (e.subsets ?? []).flatMap((s) => s.addresses ?? []).map((a) => a.ip);
      return ips.length === 6 ? ips : null;
    }, 60_000);
    expect(ep.sort()).toEqual(backends.map((p) => p.status!.podIP!).sort());
    expect(await mkOk(['get', 'endpoints', 'web'])).toMatch(/^NAME\s+ENDPOINTS\s+AGE\nweb\s+(\d+\.){3}\d+:80,(\d+\.){3}\d+:80,(\d+\.){3}\d+:80 \+ 3 more\.\.\.\s+/);

    const ip = await clusterIP('web');
    const names = backends.map((p) => p.metadata.name).sort();
    // The proxy on each node may still be programming the service: one answer first.
    for (const client of ['client-1', 'client-2', 'client-3']) {
      await waitFor(`the service from ${client}`, async () => ((await requests(client, `http://${ip}/`, 1))[0] !== 'FAIL' ? true : null), 60_000);
    }
    // 300 requests per client, each backend picked with p = 1/6: its count is binomial, mean 50 and
    // sd sqrt(300 * 1/6 * 5/6) = 6.45. Every count must lie within mean +- 4 sd (24.2 to 75.8): a
    // fair proxy fails that for some backend of some client with probability about 1e-3.
    const N = 300;
    const mean = N / 6;
    const sd = Math.sqrt(N * (1 / 6) * (5 / 6));
    for (const client of ['client-1', 'client-2', 'client-3']) {
      const got = count(await requests(client, `http://${ip}/`, N));
      expect(got.get('FAIL')).toBeUndefined();
      expect([...got.keys()].sort()).toEqual(names);
      for (const [, n] of got) {
        expect(n).toBeGreaterThan(mean - 4 * sd);
        expect(n).toBeLessThan(mean + 4 * sd);
      }
    }
  });

  it('follows readiness and deletions in the EndpointSlice, and a not-ready pod gets no traffic', async () => {
    const before = (await pods('app=web')).filter((p) => !p.metadata.deletionTimestamp);
    const [unready, deleted] = before;
    expect((await sh(unready.metadata.name, 'rm /tmp/ready')).code).toBe(0);
    await waitFor(`${unready.metadata.name} not ready in the slice`, async () => {
      const s = await webSlice();
      const e = s.endpoints?.find((x) => x.addresses.includes(unready.status!.podIP!));
      return e?.conditions?.ready === false ? true : null;
    }, 60_000);
    const ip = await clusterIP('web');
    // Each node's proxy drops it once it sees the slice: wait until no client reaches it, then count.
    for (const client of ['client-1', 'client-2', 'client-3']) {
      await waitFor(`${client} no longer reaching ${unready.metadata.name}`, async () =>
        (!(await requests(client, `http://${ip}/`, 20)).includes(unready.metadata.name) ? true : null), 60_000);
    }
    const got = count(await requests('client-1', `http://${ip}/`, 120));
    expect(got.get(unready.metadata.name)).toBeUndefined();
    expect(got.get('FAIL')).toBeUndefined();
    expect(got.size).toBe(5);

    await mkOk(['delete', 'pod', deleted.metadata.name, '--wait=false']);
    const replaced = await waitFor('a ready replacement in the slice, the deleted pod\'s address gone', async () => {
      const ps = (await pods('app=web')).filter((p) => !p.metadata.deletionTimestamp);
      const fresh = ps.find((p) => !before.some((b) => b.metadata.name === p.metadata.name));
      if (!fresh || !ready(fresh)) return null;
      const s = await webSlice();
      const addrs = (s.endpoints ?? []).flatMap((e) => e.addresses);
      const freshReady = s.endpoints?.find((e) => e.addresses.includes(fresh.status!.podIP!))?.conditions?.ready;
      return !addrs.includes(deleted.status!.podIP!) && freshReady && addrs.length === 6 ? fresh : null;
    }, 120_000);
    expect(replaced.metadata.name).not.toBe(deleted.metadata.name);
    // Ready again: back in the slice.
    expect((await sh(unready.metadata.name, 'touch /tmp/ready')).code).toBe(0);
    await waitFor(`${unready.metadata.name} ready again`, async () => {
      const s = await webSlice();
      return s.endpoints?.find((x) => x.addresses.includes(unready.status!.podIP!))?.conditions?.ready === true ? true : null;
    }, 60_000);
  });

  it('answers a NodePort on every node\'s address and refuses a taken or out-of-range node port', async () => {
    await mkOk(['apply', '-f', '-'], serviceYaml('web-np', 'app: web', '  type: NodePort\n'));
    const svc = await json<{ spec: { ports: { nodePort: number }[] } }>(['get', 'svc', 'web-np']);
    const nodePort = svc.spec.ports[0].nodePort;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    expect(nodePort).toBeLessThanOrEqual(32767);
    const names = (await pods('app=web')).map((p) => p.metadata.name);
    for (const n of c.nodes) {
      const r = await waitFor(`node port ${nodePort} on ${n.name}`, async () => {
        const x = await hostGet(`http://${n.address}:${nodePort}/`);
        return x.code === 0 && x.stdout.endsWith('\n200') ? x : null;
      }, 60_000);
      expect(names).toContain(r.stdout.split('\n')[0]);
    }
    const taken = await c.mk(['apply', '-f', '-'], { stdin: serviceYaml('web-np2', 'app: web', '  type: NodePort\n', `    - { name: http, port: 80, targetPort: http, nodePort: ${nodePort} }`) });
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain(`spec.ports[0].nodePort: Invalid value: ${nodePort}: provided port is already allocated`);
    const outside = await c.mk(['apply', '-f', '-'], { stdin: serviceYaml('web-np2', 'app: web', '  type: NodePort\n', '    - { name: http, port: 80, targetPort: http, nodePort: 40000 }') });
    expect(outside.code).toBe(1);
    expect(outside.stderr).toContain('spec.ports[0].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767');
    expect((await c.mk(['get', 'svc', 'web-np2'])).code).toBe(1);
  });

  it('lets a backend reach its own Service and get answers from itself (hairpin)', async () => {
    const self = (await pods('app=web')).filter((p) => !p.metadata.deletionTimestamp && ready(p))[0];
    const ip = await clusterIP('web');
    // With six backends, 120 requests all missing itself has probability (5/6)^120, about 3e-10.
    const got = count(await requests(self.metadata.name, `http://${ip}/`, 120));
    expect(got.get('FAIL')).toBeUndefined();
    expect(got.get(self.metadata.name)).toBeGreaterThan(0);
  });

  it('rejects a connection to a Service whose selector matches nothing, at once', async () => {
    await mkOk(['apply', '-f', '-'], serviceYaml('nothing', 'app: nothing', '', '    - { name: http, port: 80, targetPort: 80 }'));
    expect(await mkOk(['describe', 'svc', 'nothing'])).toMatch(/\nEndpoints:\s+<none>\n/);
    const ip = await clusterIP('nothing');
    // Every node rejects it (kube-proxy's REJECT for a service port without endpoints).
    for (const n of c.nodes) {
      await waitFor(`the REJECT rule on ${n.name}`, async () => {
        const rules = (await c.runOnNode(n.name, ['iptables-save', '-t', 'filter'])).stdout;
        return rules.includes(`-A MK-SERVICES -d ${ip}/32 -p tcp -m comment --comment "default/nothing:http/TCP has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable`) ? true : null;
      }, 30_000);
    }
    // The connect is refused at once rather than timing out, from a pod and from each node itself.
    // The test's nodes have no default route: each node agent routes the service CIDR to a device
    // of its own, so the packet reaches the filter table's REJECT instead of failing the route
    // lookup. (Through the pod bridge instead, the node's ICMP redirect to the pod suppressed the
    // REJECT's answer and the connect timed out.)
    // A connect left to time out would end in `timeout`'s kill (exit=143) with no such message.
    const x = await sh('client-2', `timeout 10 wget -O - http://${ip}/ 2>&1; echo exit=$?`, 30_000);
    expect(x.stdout).toMatch(/can't connect to remote host \(\S+\): Connection refused\n/);
    expect(x.stdout).toMatch(/exit=1$/m);
    for (const n of c.nodes) {
      const y = await c.runOnNode(n.name, ['sh', '-c', `timeout 10 busybox wget -O - http://${ip}/ 2>&1; echo exit=$?`]);
      expect(y.stdout).toMatch(/can't connect to remote host \(\S+\): Connection refused\n/);
      expect(y.stdout).toMatch(/exit=1$/m);
    }
  });

  it('resolves services from pods: search list, headless, SRV of a named port, NXDOMAIN', async () => {
    const ip = await clusterIP('web');
    const webPods = (await pods('app=web')).map((p) => p.metadata.name);
    // The short names go through the pod's resolver (its search list and ndots:5), as an
    // application's would: wget says which address it connects to. (busybox's nslookup applies the
    // search list to names without a dot only.)
    for (const name of ['web', 'web.default', 'web.default.svc', 'web.default.svc.cluster.local']) {
      const r = await waitFor(`wget http://${name}/`, async () => {
        const x = await sh('client-3', `timeout 5 wget -O - http://${name}/ 2>&1`, 20_000);
        return x.code === 0 ? x.stdout : null;
      }, 30_000);
      expect(r).toContain(`Connecting to ${name} (${ip}:80)`);
      expect(webPods).toContain(r.split('\n').find((l) => l.startsWith('web-')));
    }
    const full = await c.mk(['exec', 'client-3', '--', 'nslookup', 'web.default.svc.cluster.local']);
    expect(full.code).toBe(0);
    expect(full.stdout).toMatch(new RegExp(`Name:\\s+web\\.default\\.svc\\.cluster\\.local\\nAddress:\\s+${ip.replace(/\./g, '\\.')}\\n`));
    await mkOk(['apply', '-f', '-'], serviceYaml('web-headless', 'app: web', '  clusterIP: None\n'));
    const podIPs = (await pods('app=web')).filter((p) => !p.metadata.deletionTimestamp && ready(p)).map((p) => p.status!.podIP!).sort();
    const headless = await waitFor('the headless service\'s six addresses', async () => {
      const x = await c.mk(['exec', 'client-1', '--', 'nslookup', 'web-headless.default.svc.cluster.local']);
      const got = [...x.stdout.matchAll(/Address:\s+(10\.244\.\d+\.\d+)$/gm)].map((m) => m[1]).sort();
      return got.length === 6 ? got : null;
    }, 30_000);
    expect(headless).toEqual(podIPs);
    const srv = await c.mk(['exec', 'client-1', '--', 'nslookup', '-type=SRV', '_http._tcp.web.default.svc.cluster.local']);
    expect(srv.code).toBe(0);
    expect(srv.stdout).toMatch(/_http\._tcp\.web\.default\.svc\.cluster\.local\s+service = \d+ \d+ 80 web\.default\.svc\.cluster\.local/);
    const missing = await c.mk(['exec', 'client-1', '--', 'nslookup', 'nope.default.svc.cluster.local']);
    expect(missing.code).not.toBe(0);
    expect(missing.stdout + missing.stderr).toMatch(/NXDOMAIN/);
  });

  it('routes HTTP by host and path through the ingress proxy on every node; 404 for an unknown host', async () => {
    const pod = (name: string, sub: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: { app: ${name} }
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: busybox
      command: ["sh", "-c", ${JSON.stringify(serve(sub))}]
      ports: [{ name: http, containerPort: 80 }]
`;
    await mkOk(['apply', '-f', '-'], [pod('site-a', ''), pod('site-b', 'api'), serviceYaml('a', 'app: site-a'), serviceYaml('b', 'app: site-b'), `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: sites
spec:
  rules:
    - host: a.example
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: a, port: { number: 80 } } } }
    - host: b.example
      http:
        paths:
          - { path: /api, pathType: Prefix, backend: { service: { name: b, port: { name: http } } } }
`].join('---\n'));
    await c.waitPodPhase('site-a', 'Running', 120_000);
    await c.waitPodPhase('site-b', 'Running', 120_000);
    for (const n of c.nodes) {
      const a = await waitFor(`a.example on ${n.name}`, async () => {
        const x = await hostGet(`http://${n.address}/`, 'a.example');
        return x.stdout === 'site-a\n\n200' ? x : null;
      }, 60_000);
      expect(a.code).toBe(0);
      const b = await waitFor(`b.example/api/ on ${n.name}`, async () => {
        const x = await hostGet(`http://${n.address}/api/`, 'b.example');
        return x.stdout === 'site-b\n\n200' ? x : null;
      }, 60_000);
      expect(b.code).toBe(0);
      expect((await hostGet(`http://${n.address}/`, 'b.example')).stdout).toMatch(/\n404$/);
      expect((await hostGet(`http://${n.address}/`, 'unknown.example')).stdout).toMatch(/\n404$/);
      // auto: nginx serves where it is installed, a child of the node agent with its files in the
      // node's directory (MK_INGRESS_PROXY=builtin in the test's environment runs it on the other).
      const pidFile = path.join(n.dataDir, 'ingress-nginx', 'nginx.pid');
      expect(fs.existsSync(pidFile)).toBe(findNginx() !== undefined && process.env.MK_INGRESS_PROXY !== 'builtin');
      if (fs.existsSync(pidFile)) {
        const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
        expect(alive(pid)).toBe(true);
        nginxPids.push(pid);
      }
    }
    const addresses = c.nodes.map((n) => n.address).sort().join(',');
    const table = await waitFor('the ingress\'s addresses', async () => {
      const t = await mkOk(['get', 'ingress', 'sites']);
      return t.includes(addresses) ? t : null;
    }, 60_000);
    expect(table).toMatch(/^NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE\n/);
    expect(table).toMatch(new RegExp(`\\nsites\\s+\\S+\\s+a\\.example,b\\.example\\s+${addresses.replace(/\./g, '\\.')}\\s+80\\s+`));
  });

  it('answers 503 for an Ingress whose Service does not exist, with a Warning event', async () => {
    await mkOk(['apply', '-f', '-'], `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: lost
spec:
  rules:
    - host: lost.example
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: missing, port: { number: 80 } } } }
`);
    const r = await waitFor('503 from the proxy', async () => {
      const x = await hostGet(`http://${c.nodes[1].address}/`, 'lost.example');
      return /\n503$/.test(x.stdout) ? x : null;
    }, 60_000);
    expect(r.stdout).toContain('missing');
    const events = await waitFor('the ServiceNotFound event', async () => {
      const e = await mkOk(['get', 'events', '--field-selector', 'involvedObject.name=lost']);
      return /ServiceNotFound/.test(e) ? e : null;
    }, 60_000);
    expect(events).toMatch(/Warning\s+ServiceNotFound\s+ingress\/lost\s+.*missing/);
  });

  it('mk down leaves no MK- chain, mk route or mk link in any node\'s namespace', async () => {
    // Each node's namespace is held open by a bind mount, so what the agents' teardown left in it
    // can be read after `mk down` has deleted its name.
    for (const n of c.nodes) {
      const h = path.join(holdDir, n.netns);
      fs.writeFileSync(h, '');
      const m = await runCommand(['mount', '--bind', `/var/run/netns/${n.netns}`, h], { timeoutMs: 10_000 });
      expect(m.code).toBe(0);
      holds.push(h);
      // Before: the chains, routes and links are there (the test would see nothing otherwise).
      expect((await runInNetns(h, ['iptables-save'], 10_000)).stdout).toMatch(/^:MK-/m);
      expect((await runInNetns(h, ['ip', 'route', 'show', 'proto', '77'], 10_000)).stdout.trim()).not.toBe('');
      expect((await runInNetns(h, ['ip', '-o', 'link', 'show'], 10_000)).stdout).toContain('mk0');
      expect((await runInNetns(h, ['ip', '-o', 'link', 'show'], 10_000)).stdout).toContain(SERVICE_DEVICE);
    }
    const down = await c.mk(['down'], { timeoutMs: 180_000 });
    expect(down.code).toBe(0);
    for (const h of holds) {
      const rules = (await runInNetns(h, ['iptables-save'], 10_000)).stdout;
      expect(rules.split('\n').filter((l) => /MK-/.test(l))).toEqual([]);
      expect((await runInNetns(h, ['ip', 'route', 'show', 'proto', '77'], 10_000)).stdout.trim()).toBe('');
      const links = (await runInNetns(h, ['ip', '-o', 'link', 'show'], 10_000)).stdout.split('\n')
        .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1]).filter((x): x is string => !!x);
      expect(links.filter((l) => l === 'mk0' || l === 'mk.vxlan' || l === SERVICE_DEVICE || l.startsWith('veth'))).toEqual([]);
    }
    expect(nginxPids.filter(alive)).toEqual([]);
  });
});
