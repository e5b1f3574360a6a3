/**
 * The ingress proxy of `mk up --nodes 2` (port 80 of every node) through faults, with pods that
 * really run: a client asks a node's ingress again and again while that node's agent is
 * SIGKILLed (requests fail only until the supervisor's new agent serves, then all work; one
 * listener on :80 is left, the new agent's or its nginx's); while nats-server is SIGKILLed and restarted (every
 * node keeps serving its last routes, and an Ingress made after the restart works on every node);
 * and 50 Ingresses applied at once all route.
 */
import { readFileSync } from 'node:fs';
import { parseProcStat } from '../../../node-agent/containerd/pid';
import { canRunE2e, startMultiNodeCluster, waitFor, type MultiNodeCluster } from '../../helpers/multi-node';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(900_000);

const web = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata:
      labels: { app: web }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: busybox
          command: ["sh", "-c", "mkdir -p /www && echo web > /www/index.html && exec httpd -f -p 80 -h /www"]
          readinessProbe:
            httpGet: { path: /, port: 80 }
            periodSeconds: 1
          resources: { requests: { cpu: 20m, memory: 8Mi } }
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 80 }]
`;

const ingress = (name: string, host: string) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
spec:
  rules:
    - host: ${host}
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }
`;

/** Whether `pid` is `ancestor` or one of its descendants (parents read from /proc; false once gone). */
function descendsFrom(pid: number, ancestor: number): boolean {
  for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
    if (p === ancestor) return true;
    let ppid: number | undefined;
    try { ppid = parseProcStat(readFileSync(`/proc/${p}/stat`, 'utf8'))?.ppid; } catch { /* gone */ }
    if (ppid === undefined) return false;
    p = ppid;
  }
  return false;
}

describeE2e('the ingress through faults on mk up --nodes 2', () => {
  let c: MultiNodeCluster;

  const mkOk = async (args: string[], stdin?: string): Promise<string> => {
    const r = await c.mk(args, { ...(stdin !== undefined ? { stdin } : {}), timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`mk ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const address = (node: string): string => c.nodes.find((n) => n.name === node)!.address;
  /** What `http://<node>/` with `Host: host` answers, from the host namespace. */
  const ask = async (node: string, host: string): Promise<string> => {
    const r = await c.run(['curl', '-s', '-m', '2', '-H', `Host: ${host}`, `http://${address(node)}/`], { timeoutMs: 10_000 });
    return r.code === 0 ? r.stdout.trim() : `FAIL(${r.code})`;
  };
  /** The listeners on TCP :80 in a node's namespace, with their processes. */
  const listeners80 = async (node: string): Promise<string[]> => {
    const r = await c.runOnNode(node, ['ss', '-Hltnp', 'sport = :80']);
    return r.stdout.split('\n').filter((l) => l.trim() !== '');
  };

  beforeAll(async () => {
    c = await startMultiNodeCluster({ nodes: 2 });
    await c.waitNodesReady();
    await mkOk(['apply', '-f', '-'], `${web}---\n${ingress('main', 'main.test')}`);
    for (const n of c.nodes) await waitFor(`${n.name}'s ingress routing main.test`, async () => ((await ask(n.name, 'main.test')) === 'web' ? true : null), 180_000);
  });
  afterAll(async () => { await c?.destroy(); });

  it('fails requests only until a SIGKILLed node agent is back, and leaves one listener, the new agent\'s', async () => {
    const node = 'node-2';
    const pid = c.nodeAgentPid(node);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, 'SIGKILL');
    const tKill = Date.now();
    const results: { t: number; got: string }[] = [];
    // Until the supervisor's new agent serves main.test again, through a listener of its own:
    // the agent itself (the in-process proxy) or its nginx (the master a child of the agent, the
    // workers its children). Under nginx the old agent's nginx serves on until the new agent has
    // stopped it and started its own.
    const ownListener = async (now: number): Promise<boolean> => {
      const l = await listeners80(node);
      if (l.length !== 1) return false;
      const pids = [...l[0]!.matchAll(/pid=(\d+),/g)].map((m) => Number(m[1]));
      return pids.length > 0 && pids.every((p) => descendsFrom(p, now)) && !pids.some((p) => descendsFrom(p, pid!));
    };
    await waitFor('the new agent serving main.test', async () => {
      const got = await ask(node, 'main.test');
      results.push({ t: Date.now(), got });
      const now = c.nodeAgentPid(node);
      return got === 'web' && now !== undefined && now !== pid && (await ownListener(now)) ? true : null;
    }, 120_000);
    // While it was down the answer was a refused connection (curl exit 7), never another answer.
    expect(results.filter((r) => r.got !== 'web').map((r) => r.got).filter((g) => g !== 'FAIL(7)')).toEqual([]);
    expect(results[0]!.t - tKill).toBeLessThan(60_000);
    // From then on, every request works, and the listener stays the new agent's.
    for (let i = 0; i < 20; i++) expect(await ask(node, 'main.test')).toBe('web');
    expect(await ownListener(c.nodeAgentPid(node)!)).toBe(true);
  });

  it('keeps every node serving its routes while nats-server is down; an Ingress made after the restart works', async () => {
    const before = c.childPid('nats');
    expect(before).toBeGreaterThan(0);
    process.kill(before!, 'SIGKILL');
    let during = 0;
    do {
      for (const n of c.nodes) expect(await ask(n.name, 'main.test')).toBe('web');
      during++;
    } while (c.childPid('nats') === undefined || c.childPid('nats') === before);
    expect(during).toBeGreaterThan(1);
    await waitFor('the api answering again', async () => ((await c.mk(['get', 'ns'])).code === 0 ? true : null), 60_000);
    await mkOk(['apply', '-f', '-'], ingress('after', 'after.test'));
    for (const n of c.nodes) await waitFor(`${n.name} routing after.test`, async () => ((await ask(n.name, 'after.test')) === 'web' ? true : null), 60_000);
    for (const n of c.nodes) expect(await ask(n.name, 'main.test')).toBe('web');
  });

  it('routes 50 Ingresses applied at once', async () => {
    const hosts = Array.from({ length: 50 }, (_, i) => `h${i}.burst.test`);
    await mkOk(['apply', '-f', '-'], hosts.map((h, i) => ingress(`burst-${i}`, h)).join('---\n'));
    await waitFor('every burst host routed on node', async () => {
      const got = await Promise.all(hosts.map((h) => ask('node', h)));
      return got.every((g) => g === 'web') ? true : null;
    }, 60_000);
    const got2 = await Promise.all(hosts.map((h) => ask('node-2', h)));
    expect(got2).toEqual(hosts.map(() => 'web'));
    // A host no rule names is the proxy's 404, not a backend's answer.
    const r = await c.run(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '2', '-H', 'Host: nobody.test', `http://${address('node')}/`]);
    expect(r.stdout).toBe('404');
  });
});
