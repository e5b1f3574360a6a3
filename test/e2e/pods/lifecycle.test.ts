/**
 * Lifecycle hooks, graceful termination, /etc/hosts, the resolver and tty end to end: `mk up` in a
 * network namespace, busybox pods run by the node agent on real containerd, checked through the
 * CLI and the pod log files the node writes.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Pod } from '../../../messages';
import { canRunE2e, startCluster, waitFor, type TestCluster } from '../../helpers/cluster';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(600_000);

const pod = (name: string, spec: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
${spec}`;

/** Files under `dir` whose path matches `re` (the node's pod log files). */
function findFiles(dir: string, re: RegExp): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...findFiles(p, re));
    else if (re.test(p)) out.push(p);
  }
  return out;
}

describeE2e('lifecycle hooks, termination, hosts and DNS on a one-machine cluster', () => {
  let c: TestCluster;
  const getPod = async (name: string): Promise<Pod> => {
    const r = await c.mk(['get', 'pod', name, '-o', 'json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as Pod;
  };
  const waitPod = (what: string, name: string, ok: (p: Pod) => boolean, ms = 90_000) =>
    waitFor(`pod ${name}: ${what}`, async () => { const p = await getPod(name); return ok(p) ? p : null; }, ms);
  const running = (p: Pod) => p.status?.phase === 'Running' && (p.status.containerStatuses ?? []).every((s) => !!s.state.running);
  const apply = async (yaml: string, name: string): Promise<void> => {
    expect(await c.mk(['apply', '-f', '-'], { stdin: yaml })).toMatchObject({ code: 0, stdout: `pod/${name} created\n` });
  };
  const events = async (name: string): Promise<string> => {
    const r = await c.mk(['get', 'events']);
    expect(r.code).toBe(0);
    return r.stdout.split('\n').filter((l) => l.includes(`pod/${name}`)).join('\n');
  };
  /** Runs `mk delete pod NAME ARGS` (which waits until the pod is gone) and returns its seconds. */
  const timedDelete = async (name: string, args: string[] = []): Promise<number> => {
    const t0 = Date.now();
    expect(await c.mk(['delete', 'pod', name, ...args])).toMatchObject({ code: 0 });
    return (Date.now() - t0) / 1000;
  };

  beforeAll(async () => { c = await startCluster(); });
  afterAll(async () => { await c?.destroy(); });

  it('refuses a hook with two handlers and dnsPolicy None without nameservers, naming the field, creating nothing', async () => {
    const twoHandlers = pod('bad', `  containers:
    - name: main
      image: busybox
      lifecycle:
        preStop:
          exec: { command: ["true"] }
          sleep: { seconds: 1 }
`);
    let r = await c.mk(['apply', '-f', '-'], { stdin: twoHandlers });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('spec.containers[0].lifecycle.preStop.sleep: a lifecycle hook has one handler, this one has exec and sleep');
    const noServers = pod('bad', `  dnsPolicy: None
  dnsConfig: { searches: [a.example] }
  containers: [{ name: main, image: busybox }]
`);
    r = await c.mk(['apply', '-f', '-'], { stdin: noServers });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('spec.dnsConfig.nameservers: at least one nameserver is required when dnsPolicy is None');
    expect((await c.mk(['get', 'pod', 'bad'])).code).toBe(1);
  });

  it('postStart runs before the container counts as Running; hosts, resolver and a tty container are as the spec says', async () => {
    await apply(pod('hooked', `  terminationGracePeriodSeconds: 1
  hostname: box
  hostAliases:
    - ip: 10.1.2.3
      hostnames: [foo.local, bar.local]
  dnsPolicy: None
  dnsConfig:
    nameservers: [10.0.0.53]
    searches: [a.example]
    options: [{ name: ndots, value: "2" }, { name: rotate }]
  containers:
    - name: main
      image: busybox
      command: ["sh", "-c", "while [ ! -e /tmp/hook ]; do sleep 0.1; done; cat /tmp/hook; exec sleep 3600"]
      lifecycle:
        postStart:
          exec: { command: ["sh", "-c", "sleep 2; echo written-by-postStart > /tmp/hook"] }
    - name: term
      image: busybox
      tty: true
      stdin: true
      command: ["sh", "-c", "echo tty-line; exec sleep 3600"]
`), 'hooked');
    const p = await waitPod('Running', 'hooked', running);
    // Running is only reported once the hook returned, so its file is there at once.
    expect(await c.mk(['exec', 'hooked', '-c', 'main', '--', 'cat', '/tmp/hook'])).toMatchObject({ code: 0, stdout: 'written-by-postStart\n' });
    await waitFor('the main log', async () => ((await c.mk(['logs', 'hooked', '-c', 'main'])).stdout.includes('written-by-postStart') ? true : null), 20_000);
    await waitFor('the tty log', async () => ((await c.mk(['logs', 'hooked', '-c', 'term'])).stdout.includes('tty-line') ? true : null), 20_000);

    const hosts = (await c.mk(['exec', 'hooked', '-c', 'main', '--', 'cat', '/etc/hosts'])).stdout.split('\n');
    expect(hosts).toContain('127.0.0.1\tlocalhost');
    expect(hosts).toContain(`${p.status?.podIP}\tbox`);
    expect(hosts).toContain('10.1.2.3\tfoo.local\tbar.local');
    const resolv = (await c.mk(['exec', 'hooked', '-c', 'term', '--', 'cat', '/etc/resolv.conf'])).stdout;
    expect(resolv.split('\n').filter((l) => l.startsWith('nameserver'))).toEqual(['nameserver 10.0.0.53']);
    expect(resolv).toMatch(/^search a\.example$/m);
    expect(resolv).toMatch(/^options ndots:2 rotate$/m);
    expect(await c.mk(['exec', 'hooked', '-c', 'term', '--', 'cat', '/etc/hostname'])).toMatchObject({ stdout: 'box\n' });
  });

  it('runs examples/lifecycle.yaml as the README says', async () => {
    expect(await c.mk(['apply', '-f', path.join(__dirname, '../../../examples/lifecycle.yaml')])).toMatchObject({ code: 0 });
    await waitPod('Running', 'hooks', running);
    expect(await c.mk(['exec', 'hooks', '--', 'cat', '/www/index.html'])).toMatchObject({ code: 0, stdout: 'written by postStart\n' });
    const files = (await c.mk(['exec', 'hooks', '--', 'cat', '/etc/hosts', '/etc/resolv.conf'])).stdout;
    expect(files).toMatch(/^10\.0\.0\.20\tdb\.internal$/m);
    expect(files).toMatch(/^options .*ndots:2/m);
    expect(await timedDelete('hooks')).toBeGreaterThanOrEqual(1);
  });

  it('a failing postStart kills the container, which restarts by its policy, with FailedPostStartHook', async () => {
    await apply(pod('badhook', `  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: busybox
      command: ["sh", "-c", "exec sleep 3600"]
      lifecycle:
        postStart:
          exec: { command: ["sh", "-c", "echo nope; exit 7"] }
`), 'badhook');
    await waitPod('restarted', 'badhook', (p) => (p.status?.containerStatuses?.[0].restartCount ?? 0) >= 1);
    const ev = await waitFor('the FailedPostStartHook event', async () => {
      const e = await events('badhook');
      return /FailedPostStartHook\s+pod\/badhook\s+PostStartHookError: Exec lifecycle hook .* exited with 7: nope/.test(e) ? e : null;
    }, 30_000);
    expect(ev).toMatch(/Warning/);
    expect((await getPod('badhook')).status?.containerStatuses?.[0].state.running).toBeUndefined();
  });

  it('preStop runs before SIGTERM on deletion: the TERM trap finds what it wrote', async () => {
    await apply(pod('stopper', `  terminationGracePeriodSeconds: 20
  containers:
    - name: main
      image: busybox
      command: ["sh", "-c", "trap 'cat /tmp/pre; echo got-TERM; exit 0' TERM; echo started; while true; do sleep 0.2; done"]
      lifecycle:
        preStop:
          exec: { command: ["sh", "-c", "sleep 1; echo preStop-ran > /tmp/pre"] }
`), 'stopper');
    await waitPod('Running', 'stopper', running);
    const seconds = await timedDelete('stopper');
    // The hook's second, then TERM ends the program at once: far from the 20 s grace period.
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThan(15);
    const [log] = findFiles(c.dataDir, /default_stopper_[^/]+\/main\/0\.log$/);
    const text = fs.readFileSync(log, 'utf8');
    if (!text.includes('preStop-ran')) throw new Error(`no preStop line in ${log}:\n${text}\nevents:\n${await events('stopper')}`);
    expect(text).toContain('started');
    expect(text.indexOf('preStop-ran')).toBeGreaterThan(text.indexOf('started'));
    expect(text.indexOf('got-TERM')).toBeGreaterThan(text.indexOf('preStop-ran'));
  });

  it('a preStop httpGet reaches the container\'s server on the pod IP, by port name, before it is stopped', async () => {
    await apply(pod('webstop', `  terminationGracePeriodSeconds: 10
  containers:
    - name: main
      image: busybox
      command: ["sh", "-c", "mkdir -p /www && echo bye > /www/bye && exec httpd -f -vv -p 8080 -h /www"]
      ports: [{ name: web, containerPort: 8080 }]
      lifecycle:
        preStop:
          httpGet: { path: /bye, port: web, httpHeaders: [{ name: X-Stop, value: "1" }] }
`), 'webstop');
    await waitPod('Running', 'webstop', running);
    await timedDelete('webstop');
    const [log] = findFiles(c.dataDir, /default_webstop_[^/]+\/main\/0\.log$/);
    const text = fs.readFileSync(log, 'utf8');
    if (!/\/bye/.test(text)) throw new Error(`no request for /bye in ${log}:\n${text}\nevents:\n${await events('webstop')}`);
    expect(await events('webstop')).not.toMatch(/FailedPreStopHook/);
  });

  it('a program ignoring SIGTERM is killed when terminationGracePeriodSeconds ends', async () => {
    await apply(pod('stubborn', `  terminationGracePeriodSeconds: 4
  containers:
    - name: main
      image: busybox
      command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.2; done"]
`), 'stubborn');
    await waitPod('Running', 'stubborn', running);
    const seconds = await timedDelete('stubborn');
    expect(seconds).toBeGreaterThanOrEqual(4);
    expect(seconds).toBeLessThan(20);
  });

  it('a preStop that outlasts the grace period is cut short; --grace-period overrides the pod\'s', async () => {
    await apply(pod('slowstop', `  terminationGracePeriodSeconds: 120
  containers:
    - name: main
      image: busybox
      command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.2; done"]
      lifecycle:
        preStop:
          sleep: { seconds: 300 }
`), 'slowstop');
    await waitPod('Running', 'slowstop', running);
    // One second for the hook, then at least 2 s for SIGTERM (kubelet's minimum), then SIGKILL.
    const seconds = await timedDelete('slowstop', ['--grace-period', '1']);
    expect(seconds).toBeGreaterThanOrEqual(3);
    expect(seconds).toBeLessThan(20);
  });

  it('--grace-period 0 removes a pod with a long preStop at once, and the node tears it down', async () => {
    await apply(pod('forced', `  terminationGracePeriodSeconds: 3
  containers:
    - name: main
      image: busybox
      command: ["sh", "-c", "exec sleep 3600"]
      lifecycle:
        preStop:
          sleep: { seconds: 300 }
`), 'forced');
    await waitPod('Running', 'forced', running);
    const listed = await c.run(['ctr', '-a', `${c.dataDir}/node/containerd/containerd.sock`, '-n', 'k8s.io', 'containers', 'ls', '-q', 'labels."mk.io/pod-name"==forced']);
    expect(listed.stdout.trim().split('\n')).toHaveLength(2);
    expect(await timedDelete('forced', ['--grace-period', '0'])).toBeLessThan(10);
    expect((await c.mk(['get', 'pod', 'forced'])).code).toBe(1);
    // Nothing of it stays in the runtime: its sandbox goes within the pod's grace period and a resync.
    await waitFor('the sandbox removed', async () => {
      const r = await c.run(['ctr', '-a', `${c.dataDir}/node/containerd/containerd.sock`, '-n', 'k8s.io', 'containers', 'ls', '-q', 'labels."mk.io/pod-name"==forced']);
      return r.code === 0 && r.stdout.trim() === '' ? true : null;
    }, 60_000);
  });
});
