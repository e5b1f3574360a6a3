/**
 * The node's warm pool of generic runtime containers end to end, on a one-machine cluster (`mk up`
 * in a network namespace, real containerd) with MK_FUNCTION_POOL_SIZE=1. The runtime images are
 * not built in the background here, so the first instance pod of each runtime misses (and builds
 * the image); the pool then fills, and the next instance pod takes a warm container: its sandbox
 * is the member's, the loader is given the pod's env through /init, the pool refills. A pod that is
 * not eligible takes the normal path; deleting an adopted pod removes its sandbox, record and code
 * directory; a SIGKILLed node agent leaves an adopted pod running as it was. A second cluster with
 * size 0 shows the miss. Prints adoption -> /init -> Ready timings.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import path from 'node:path';
import { pack } from '../../../bus/code-archive';
import type { Pod } from '../../../messages';
import { RUNTIME_IMAGE_LATEST, type FunctionRuntime } from '../../../messages/function-names';
import { CriClient } from '../../../node-agent/cri/client';
import { canRunE2e, startCluster, waitFor, type TestCluster } from '../../helpers/cluster';
import { parsePromText, sumOf, type PromFamily } from '../../helpers/prom-text';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(900_000);

const POOL_LABEL = 'mk.io/function-pool';

/** An instance pod of Function `fn`, as the function controller makes it; `extraVolume` makes it ineligible. */
function instancePod(name: string, fn: string, runtime: FunctionRuntime, env: Record<string, string>, digest: string, extraVolume = false): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, labels: { 'mk.io/function': fn } },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{
        name: 'function', image: RUNTIME_IMAGE_LATEST[runtime], imagePullPolicy: 'IfNotPresent',
        env: Object.entries(env).map(([n, value]) => ({ name: n, value })),
        ports: [{ name: 'http', containerPort: 8080 }],
        readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
        volumeMounts: [{ name: 'code', mountPath: '/code', readOnly: true }, ...(extraVolume ? [{ name: 'scratch', mountPath: '/scratch' }] : [])],
      }],
      volumes: [
        { name: 'code', csi: { driver: 'functions.mk.io', readOnly: true, volumeAttributes: { digest } } },
        ...(extraVolume ? [{ name: 'scratch', emptyDir: {} }] : []),
      ],
    },
  });
}

interface AdoptRec { sandboxId: string; containerId: string; member: string; podUid: string; initDone: boolean }

/** Helpers over one cluster. */
function harness(get: () => TestCluster, srcRoot: () => string) {
  const c = (): TestCluster => get();
  let cri: CriClient | undefined;
  const nodeDir = (): string => path.join(c().dataDir, 'node');
  const h = {
    getPod: async (name: string): Promise<Pod> => {
      const r = await c().mk(['get', 'pod', name, '-o', 'json']);
      if (r.code !== 0) throw new Error(r.stderr);
      return JSON.parse(r.stdout) as Pod;
    },
    ready: (p: Pod): boolean => p.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True',
    waitReady: (name: string, ms = 240_000, every = 200): Promise<Pod> =>
      waitFor(`pod ${name} Ready`, async () => { const p = await h.getPod(name); return h.ready(p) ? p : null; }, ms, every),
    apply: async (yaml: string): Promise<void> => {
      const r = await c().mk(['apply', '-f', '-'], { stdin: yaml });
      expect(r).toMatchObject({ code: 0 });
    },
    events: async (name: string): Promise<string> => {
      const r = await c().mk(['get', 'events']);
      return r.stdout.split('\n').filter((l) => l.includes(`pod/${name}`)).join('\n');
    },
    run: async (p: Pod, event: unknown): Promise<unknown> => {
      const r = await c().run(['/bin/busybox', 'wget', '-qO-', '--header', 'Content-Type: application/json', '--post-data', JSON.stringify(event), `http://${p.status?.podIP}:8080/run`]);
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout);
    },
    deploy: async (fn: string, runtime: FunctionRuntime, files: { [f: string]: string }, how: string[]): Promise<string> => {
      const dir = path.join(srcRoot(), fn);
      fs.mkdirSync(dir, { recursive: true });
      for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
      const r = await c().mk(['function', 'deploy', fn, '--runtime', runtime, ...how, '-f', dir]);
      expect(r).toMatchObject({ code: 0 });
      return pack(dir).digest;
    },
    cri: async (): Promise<CriClient> => (cri ??= await CriClient.connect(path.join(nodeDir(), 'containerd', 'containerd.sock'))),
    close: (): void => { cri?.close(); cri = undefined; },
    /** The pool's sandboxes in the runtime (adopted ones included), by runtime label. */
    poolSandboxes: async (runtime?: FunctionRuntime) => (await (await h.cri()).listPodSandbox({
      filter: { labelSelector: runtime ? { [POOL_LABEL]: runtime } : {} },
    })).items.filter((s) => !!s.labels[POOL_LABEL]),
    records: (): AdoptRec[] => {
      const dir = path.join(nodeDir(), 'function-pool', 'adoptions');
      return (fs.existsSync(dir) ? fs.readdirSync(dir) : []).filter((f) => f.endsWith('.json'))
        .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as AdoptRec);
    },
    memberDirs: (): string[] => {
      const dir = path.join(nodeDir(), 'function-pool', 'members');
      return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
    },
    metrics: async (): Promise<Map<string, PromFamily>> => {
      const urls = JSON.parse(fs.readFileSync(path.join(c().dataDir, 'metrics.json'), 'utf8')) as { [k: string]: { host: string; port: number } };
      const e = urls['node-agent'];
      const r = await c().run([process.execPath, '-e',
        `fetch(${JSON.stringify(`http://${e.host}:${e.port}/metrics`)}).then(async (r) => process.stdout.write(await r.text()), () => process.exit(3))`]);
      if (r.code !== 0) throw new Error(`scrape failed: ${r.stderr}`);
      return parsePromText(r.stdout);
    },
    /** Waits for a ready (listening, unadopted) member of `runtime`, returns the ready members' sandbox ids. */
    readyMembers: async (runtime: FunctionRuntime, atLeast = 1): Promise<string[]> => {
      await waitFor(`${atLeast} ready ${runtime} member(s)`, async () => (
        sumOf(await h.metrics(), 'mk_function_pool_members', { runtime, state: 'ready' }) >= atLeast ? true : null
      ), 120_000, 250);
      const adopted = new Set(h.records().map((r) => r.sandboxId));
      return (await h.poolSandboxes(runtime)).filter((s) => s.state === 'SANDBOX_READY' && !adopted.has(s.id)).map((s) => s.id);
    },
  };
  return h;
}

describeE2e('the warm pool of function containers (size 1)', () => {
  let c: TestCluster;
  let srcRoot: string;
  const timings: string[] = [];
  const h = harness(() => c, () => srcRoot);

  beforeAll(async () => {
    srcRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-fnpool-src-'));
    c = await startCluster({ env: { MK_WARM_RUNTIME_IMAGES: 'off', MK_FUNCTION_POOL_SIZE: '1' } });
  });
  afterAll(async () => {
    h.close();
    await c?.destroy();
    if (srcRoot) fs.rmSync(srcRoot, { recursive: true, force: true });
    if (timings.length > 0) console.log(`warm pool timings:\n  ${timings.join('\n  ')}`);
  });

  /** Applies an instance pod, waits for Ready; returns the pod and how long apply -> Ready took. */
  const start = async (yaml: string, name: string): Promise<{ pod: Pod; ms: number }> => {
    const t0 = Date.now();
    await h.apply(yaml);
    const pod = await h.waitReady(name, 240_000, 20);
    return { pod, ms: Date.now() - t0 };
  };
  /** Checks that `name` took one of `members` and returns its record. */
  const adoptedFrom = async (name: string, members: string[]): Promise<AdoptRec> => {
    const pod = await h.getPod(name);
    const rec = h.records().find((r) => r.podUid === pod.metadata.uid);
    expect(rec).toBeDefined();
    expect(members).toContain(rec!.sandboxId);
    expect(rec!.initDone).toBe(true);
    expect(pod.status?.containerStatuses?.[0]?.containerID).toBe(`containerd://${rec!.containerId}`);
    expect(pod.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    return rec!;
  };
  const specializedMs = (ev: string): number => Number(/Specialized a warm \w+ container from the pool in (\d+) ms/.exec(ev)?.[1] ?? NaN);

  let addDigest = '';
  it('python3: the first pod misses and builds the image, the pool fills, the next pod takes the warm container with its env', async () => {
    addDigest = await h.deploy('add', 'python3', {
      'add.py': 'import os\n\nGREETING = os.environ.get("GREETING")\n\ndef handler(event):\n    return {"sum": event["a"] + event["b"], "greeting": GREETING, "now": os.environ.get("GREETING")}\n',
    }, ['--handler', 'add.handler']);
    const first = await start(instancePod('add-aaaaa', 'add', 'python3', { MK_FUNCTION_HANDLER: 'add.handler', GREETING: 'cold' }, addDigest), 'add-aaaaa');
    timings.push(`python3, pool miss (image built on demand): apply -> Ready ${first.ms} ms`);
    expect(await h.events('add-aaaaa')).toContain('No warm python3 container in the pool');
    expect(h.records()).toEqual([]);
    expect(sumOf(await h.metrics(), 'mk_function_pool_total', { runtime: 'python3', result: 'miss' })).toBe(1);

    const members = await h.readyMembers('python3');
    expect(members.length).toBeGreaterThanOrEqual(1);
    const warm = await start(instancePod('add-bbbbb', 'add', 'python3', { MK_FUNCTION_HANDLER: 'add.handler', GREETING: 'warm' }, addDigest), 'add-bbbbb');
    const ev = await h.events('add-bbbbb');
    expect(ev).toMatch(/Specialized a warm python3 container from the pool in \d+ ms/);
    expect(ev).not.toContain('Created container');
    timings.push(`python3, pool hit: apply -> Ready ${warm.ms} ms (take -> /init done ${specializedMs(ev)} ms)`);
    const rec = await adoptedFrom('add-bbbbb', members);
    expect(await h.run(warm.pod, { a: 40, b: 2 })).toEqual({ sum: 42, greeting: 'warm', now: 'warm' });
    expect(sumOf(await h.metrics(), 'mk_function_pool_total', { runtime: 'python3', result: 'hit' })).toBe(1);
    // The code is at /code, read-only; logs and exec reach the adopted container.
    const inside = await c.mk(['exec', 'add-bbbbb', '--', 'sh', '-c', 'ls /code; touch /code/x 2>/dev/null && echo writable || echo read-only']);
    expect(inside.stdout).toContain('add.py');
    expect(inside.stdout).toContain('read-only');
    expect((await c.mk(['logs', 'add-bbbbb'])).stdout).toMatch(/mk-loader: init: handler add\.handler from \/code loaded in \d+ ms/);
    // A new member refills the pool.
    const refilled = await h.readyMembers('python3');
    expect(refilled.filter((id) => id !== rec.sandboxId).length).toBeGreaterThanOrEqual(1);
  });

  it('node: a command function takes a warm node container once the pool has one', async () => {
    const digest = await h.deploy('add-js', 'node', {
      'add_cmd.js': 'const e = JSON.parse(process.argv[process.argv.length - 1]);\nconsole.log(JSON.stringify({ sum: e.a + e.b, greeting: process.env.GREETING }));\n',
    }, ['--command', 'node add_cmd.js']);
    const cold = await start(instancePod('add-js-aaaaa', 'add-js', 'node', { MK_FUNCTION_COMMAND: 'node add_cmd.js', GREETING: 'cold' }, digest), 'add-js-aaaaa');
    timings.push(`node, pool miss (image built on demand): apply -> Ready ${cold.ms} ms`);
    const members = await h.readyMembers('node');
    const warm = await start(instancePod('add-js-bbbbb', 'add-js', 'node', { MK_FUNCTION_COMMAND: 'node add_cmd.js', GREETING: 'warm' }, digest), 'add-js-bbbbb');
    const ev = await h.events('add-js-bbbbb');
    expect(ev).toMatch(/Specialized a warm node container from the pool in \d+ ms/);
    timings.push(`node, pool hit: apply -> Ready ${warm.ms} ms (take -> /init done ${specializedMs(ev)} ms)`);
    await adoptedFrom('add-js-bbbbb', members);
    expect(await h.run(warm.pod, { a: 1, b: 2 })).toEqual({ sum: 3, greeting: 'warm' });
  });

  it('gives a pod that is not eligible (an extra volume) a sandbox of its own', async () => {
    await h.readyMembers('python3');
    const { pod } = await start(instancePod('add-ccccc', 'add', 'python3', { MK_FUNCTION_HANDLER: 'add.handler', GREETING: 'own' }, addDigest, true), 'add-ccccc');
    const ev = await h.events('add-ccccc');
    expect(ev).not.toContain('Specialized');
    expect(ev).toContain('Created container function');
    expect(h.records().some((r) => r.podUid === pod.metadata.uid)).toBe(false);
    expect(await h.run(pod, { a: 1, b: 1 })).toEqual({ sum: 2, greeting: 'own', now: 'own' });
  });

  it("applies a pod's resource limits to the warm container it takes", async () => {
    const members = await h.readyMembers('python3');
    const pod = JSON.parse(instancePod('add-lllll', 'add', 'python3', { MK_FUNCTION_HANDLER: 'add.handler' }, addDigest)) as Pod;
    pod.spec.containers[0].resources = { limits: { memory: '96Mi', cpu: '500m' } };
    const { pod: p } = await start(JSON.stringify(pod), 'add-lllll');
    expect(await h.events('add-lllll')).toContain('Specialized');
    await adoptedFrom('add-lllll', members);
    const r = await c.mk(['exec', 'add-lllll', '--', 'sh', '-c', 'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes']);
    expect(r.stdout.trim()).toBe(String(96 * 1024 * 1024));
    expect(await h.run(p, { a: 1, b: 1 })).toMatchObject({ sum: 2 });
    expect((await c.mk(['delete', 'pod', 'add-lllll'])).code).toBe(0);
  });

  it('times several pool hits in a row', async () => {
    const hits: number[] = [];
    for (let i = 0; i < 10; i++) {
      await h.readyMembers('python3');
      const name = `add-t${i}xxx`;
      const { pod, ms } = await start(instancePod(name, 'add', 'python3', { MK_FUNCTION_HANDLER: 'add.handler' }, addDigest), name);
      expect(await h.events(name)).toContain('Specialized');
      hits.push(ms);
      expect(await h.run(pod, { a: i, b: 1 })).toMatchObject({ sum: i + 1 });
      expect((await c.mk(['delete', 'pod', name])).code).toBe(0);
    }
    const sorted = [...hits].sort((a, b) => a - b);
    timings.push(`python3 pool hits, apply -> Ready seen by mk get (CLI, scheduling and polling included): ${hits.join(', ')} ms; median ${sorted[Math.floor(sorted.length / 2)]} ms`);
    // On the node: from taking the member to the Ready status written (the agent logs each).
    const log = fs.readFileSync(path.join(c.dataDir, 'logs', 'node-agent.log'), 'utf8').split('\n')
      .filter((l) => l.includes('Ready after taking a warm container'))
      .map((l) => JSON.parse(l) as { ms: number; runtime: string; initMs: number; writeMs: number });
    const taken = log.filter((l) => l.runtime === 'python3').map((l) => l.ms).sort((a, b) => a - b);
    expect(taken.length).toBeGreaterThanOrEqual(hits.length);
    const at = (q: number): number => taken[Math.min(taken.length - 1, Math.ceil(q * taken.length) - 1)];
    timings.push(`python3 pool hits on the node, take -> Ready status written: ${taken.join(', ')} ms; p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`);
    timings.push(`  of which specialising (code, record, /init): ${log.filter((l) => l.runtime === 'python3').map((l) => l.initMs).join(', ')} ms; the Ready status write: ${log.filter((l) => l.runtime === 'python3').map((l) => l.writeMs).join(', ')} ms`);
    const node = log.filter((l) => l.runtime === 'node').map((l) => l.ms);
    timings.push(`node pool hits on the node, take -> Ready status written: ${node.join(', ')} ms`);
    expect(sumOf(await h.metrics(), 'mk_function_pool_ready_seconds_count', { runtime: 'python3' })).toBe(taken.length);
  });

  it('removes the sandbox, the record and the code directory of a deleted adopted pod', async () => {
    const pod = await h.getPod('add-bbbbb');
    const rec = h.records().find((r) => r.podUid === pod.metadata.uid)!;
    expect(h.memberDirs()).toContain(rec.member);
    expect((await c.mk(['delete', 'pod', 'add-bbbbb'])).code).toBe(0);
    await waitFor('the adopted sandbox, record and directory gone', async () => {
      const left = (await h.poolSandboxes()).some((s) => s.id === rec.sandboxId);
      return !left && !h.records().some((r) => r.sandboxId === rec.sandboxId) && !h.memberDirs().includes(rec.member) ? true : null;
    }, 60_000, 250);
  });

  it('keeps an adopted pod running as it was across a SIGKILL of the node agent, and leaves no orphans', async () => {
    const members = await h.readyMembers('python3');
    await start(instancePod('add-ddddd', 'add', 'python3', { MK_FUNCTION_HANDLER: 'add.handler', GREETING: 'kept' }, addDigest), 'add-ddddd');
    const rec = await adoptedFrom('add-ddddd', members);
    const before = await h.getPod('add-ddddd');
    const pid = c.pidOf(' node-agent');
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGKILL');
    await waitFor('node agent restarted', async () => { const p = c.pidOf(' node-agent'); return p !== undefined && p !== pid; }, 60_000);
    // The new agent finds the pool again (its metrics start afresh) ...
    await h.readyMembers('python3');
    const after = await h.waitReady('add-ddddd');
    expect(after.status?.containerStatuses?.[0]?.containerID).toBe(before.status?.containerStatuses?.[0]?.containerID);
    expect(after.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    expect(after.status?.podIP).toBe(before.status?.podIP);
    expect(h.records().find((r) => r.podUid === before.metadata.uid)?.sandboxId).toBe(rec.sandboxId);
    expect(await h.run(after, { a: 2, b: 3 })).toEqual({ sum: 5, greeting: 'kept', now: 'kept' });
    // ... and leaves no orphans: every pool sandbox is adopted (by a pod that exists) or a member, with its directory.
    await waitFor('no orphaned pool objects', async () => {
      const sandboxes = await h.poolSandboxes();
      const recs = h.records();
      const dirs = h.memberDirs();
      const pods = JSON.parse((await c.mk(['get', 'pods', '-o', 'json'])).stdout) as { items: Pod[] };
      const uids = new Set(pods.items.map((p) => p.metadata.uid));
      const ok = sandboxes.every((s) => dirs.includes(s.labels['mk.io/pool-member']))
        && recs.every((r) => uids.has(r.podUid) && sandboxes.some((s) => s.id === r.sandboxId))
        && dirs.every((d) => sandboxes.some((s) => s.labels['mk.io/pool-member'] === d));
      return ok ? true : null;
    }, 60_000, 500);
  });
});

describeE2e('the warm pool turned off (size 0)', () => {
  let c: TestCluster;
  let srcRoot: string;
  const h = harness(() => c, () => srcRoot);

  beforeAll(async () => {
    srcRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-fnpool0-src-'));
    c = await startCluster({ env: { MK_WARM_RUNTIME_IMAGES: 'off', MK_FUNCTION_POOL_SIZE: '0' } });
  });
  afterAll(async () => {
    h.close();
    await c?.destroy();
    if (srcRoot) fs.rmSync(srcRoot, { recursive: true, force: true });
  });

  it('runs every instance pod the normal way, counting misses and keeping no warm containers', async () => {
    const digest = await h.deploy('add', 'python3', { 'add.py': 'def handler(event):\n    return {"sum": event["a"] + event["b"]}\n' }, ['--handler', 'add.handler']);
    for (const name of ['add-aaaaa', 'add-bbbbb']) {
      await h.apply(instancePod(name, 'add', 'python3', { MK_FUNCTION_HANDLER: 'add.handler' }, digest));
      const p = await h.waitReady(name);
      expect(await h.run(p, { a: 1, b: 2 })).toEqual({ sum: 3 });
      const ev = await h.events(name);
      expect(ev).toContain('No warm python3 container in the pool');
      expect(ev).toContain('Created container function');
    }
    const m = await h.metrics();
    expect(sumOf(m, 'mk_function_pool_total', { runtime: 'python3', result: 'miss' })).toBe(2);
    expect(sumOf(m, 'mk_function_pool_total', { runtime: 'python3', result: 'hit' })).toBe(0);
    expect(await h.poolSandboxes()).toEqual([]);
    expect(h.records()).toEqual([]);
  });
});
