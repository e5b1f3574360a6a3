/**
 * A Function's instance pods end to end on a one-machine cluster (`mk up` in a network namespace):
 * the code uploaded with `mk function deploy`, pods of the instance shape (docs/api.md, "Function
 * runtimes") naming the runtime image by its `:latest` name and the code by a `functions.mk.io`
 * csi volume. The node builds the runtime image on demand (background builds are off here), the
 * loader loads the code from its environment, the pod turns Ready through its readinessProbe and
 * POST /run from the namespace answers. A load failure ends in the pod's log; code missing from the
 * store is FailedMount naming its digest; deleting the pods
 * leaves no mount; a node agent SIGKILLed while a pod's volumes are set up finishes on restart.
 * Instance pods owned by their Function have their loader's readiness probed at once after the
 * start (LoaderReady); prints apply -> Ready and container start -> loader ready timings.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import path from 'node:path';
import { pack } from '../../../bus/code-archive';
import type { Pod } from '../../../messages';
import { RUNTIME_IMAGE_LATEST, type FunctionRuntime } from '../../../messages/function-names';
import { canRunE2e, startCluster, waitFor, type TestCluster } from '../../helpers/cluster';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(600_000);

/**
 * An instance pod of Function `fn`, as the function controller makes it. With `ownerUid` it is
 * owned by the Function, though not as its controller, so the function controller leaves this
 * hand-made pod alone while the garbage collector keeps it and the node treats it as an instance.
 */
function instancePod(name: string, fn: string, runtime: FunctionRuntime, env: Record<string, string>, digest: string, ownerUid?: string): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, labels: { 'mk.io/function': fn },
      ...(ownerUid ? { ownerReferences: [{ apiVersion: 'mk.io/v1', kind: 'Function', name: fn, uid: ownerUid, controller: false }] } : {}),
    },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{
        name: 'function', image: RUNTIME_IMAGE_LATEST[runtime], imagePullPolicy: 'IfNotPresent',
        env: Object.entries(env).map(([n, value]) => ({ name: n, value })),
        ports: [{ name: 'http', containerPort: 8080 }],
        readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
        volumeMounts: [{ name: 'code', mountPath: '/code', readOnly: true }],
      }],
      volumes: [{ name: 'code', csi: { driver: 'functions.mk.io', readOnly: true, volumeAttributes: { digest } } }],
    },
  });
}

describeE2e('function instance pods on a one-machine cluster', () => {
  let c: TestCluster;
  let srcRoot: string;
  const timings: string[] = [];

  const getPod = async (name: string): Promise<Pod> => {
    const r = await c.mk(['get', 'pod', name, '-o', 'json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as Pod;
  };
  const ready = (p: Pod): boolean => p.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True';
  const waitReady = (name: string, ms = 240_000): Promise<Pod> =>
    waitFor(`pod ${name} Ready`, async () => { const p = await getPod(name); return ready(p) ? p : null; }, ms, 200);
  const apply = async (yaml: string): Promise<void> => {
    const r = await c.mk(['apply', '-f', '-'], { stdin: yaml });
    expect(r).toMatchObject({ code: 0 });
  };
  const events = async (name: string): Promise<string> => {
    const r = await c.mk(['get', 'events']);
    return r.stdout.split('\n').filter((l) => l.includes(`pod/${name}`)).join('\n');
  };
  /** POST /run to the pod's IP from the cluster's namespace. */
  const run = async (p: Pod, event: unknown): Promise<unknown> => {
    const r = await c.run(['/bin/busybox', 'wget', '-qO-', '--header', 'Content-Type: application/json', '--post-data', JSON.stringify(event), `http://${p.status?.podIP}:8080/run`]);
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout);
  };
  /** Writes `files` into a new source directory, deploys it as Function `fn` and returns its digest. */
  const deploy = async (fn: string, runtime: FunctionRuntime, files: Record<string, string>, how: string[]): Promise<string> => {
    const dir = path.join(srcRoot, fn);
    fs.mkdirSync(dir, { recursive: true });
    for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
    const r = await c.mk(['function', 'deploy', fn, '--runtime', runtime, ...how, '-f', dir]);
    expect(r).toMatchObject({ code: 0 });
    return pack(dir).digest;
  };
  /** The node's code cache (`<node data dir>/function-code`). */
  const codeCache = (): string => {
    const walk = (d: string, depth: number): string | undefined => {
      if (depth > 3) return undefined;
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (!e.isDirectory()) continue;
        if (e.name === 'function-code') return path.join(d, e.name);
        const found = walk(path.join(d, e.name), depth + 1);
        if (found) return found;
      }
      return undefined;
    };
    const found = walk(c.dataDir, 0);
    if (!found) throw new Error(`no function-code directory under ${c.dataDir}`);
    return found;
  };
  /** The uid of Function `fn`. */
  const functionUid = async (fn: string): Promise<string> => {
    const r = await c.mk(['get', 'function', fn, '-o', 'json']);
    expect(r.code).toBe(0);
    return (JSON.parse(r.stdout) as { metadata: { uid: string } }).metadata.uid;
  };
  /**
   * The node probed the loader of pod `name` at once after its start: its LoaderReady event, and
   * how long after the container started the loader answered.
   */
  const loaderReadyMs = async (name: string): Promise<number> => {
    const m = /Loader of container function ready (\d+) ms after it started/.exec(await events(name));
    expect(m).not.toBeNull();
    return Number(m![1]);
  };
  const mountsMentioning = (what: string): string[] => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(what));

  beforeAll(async () => {
    srcRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-fninst-src-'));
    // The normal path of instance pods (test/e2e/runtime/function-pool.test.ts covers the warm pool).
    c = await startCluster({ env: { MK_WARM_RUNTIME_IMAGES: 'off', MK_FUNCTION_POOL_SIZE: '0' } });
  });
  afterAll(async () => {
    await c?.destroy();
    if (srcRoot) fs.rmSync(srcRoot, { recursive: true, force: true });
    if (timings.length > 0) console.log(`function instance timings:\n  ${timings.join('\n  ')}`);
  });

  let addDigest = '';
  it('runs a python3 handler instance: image built on demand, Ready through its probe, /run gives {"sum":3}', async () => {
    addDigest = await deploy('add', 'python3', {
      'add.py': 'def handler(event):\n    return {"sum": event["a"] + event["b"]}\n',
      'broken.py': 'import no_such_module_anywhere\n\ndef handler(event):\n    return 0\n',
    }, ['--handler', 'add.handler']);
    const addUid = await functionUid('add');
    let t0 = Date.now();
    await apply(instancePod('add-aaaaa', 'add', 'python3', { MK_FUNCTION_HANDLER: 'add.handler' }, addDigest, addUid));
    const p = await waitReady('add-aaaaa');
    timings.push(`python3 instance, image built on demand: apply -> Ready ${Date.now() - t0} ms; start -> loader ready ${await loaderReadyMs('add-aaaaa')} ms`);
    expect(await run(p, { a: 1, b: 2 })).toEqual({ sum: 3 });
    const ev = await events('add-aaaaa');
    expect(ev).toContain(`Building image "${RUNTIME_IMAGE_LATEST.python3}" from this node's interpreter`);
    expect(ev).toMatch(/Successfully built image "registry\.mk\.local\/mk-runtime-python3:latest" in \d+\.\d+s/);
    expect(fs.readdirSync(codeCache())).toEqual([addDigest.slice('sha256:'.length)]);

    // A second instance: the image and the code are on the node already.
    t0 = Date.now();
    await apply(instancePod('add-bbbbb', 'add', 'python3', { MK_FUNCTION_HANDLER: 'add.handler' }, addDigest, addUid));
    const q = await waitReady('add-bbbbb');
    timings.push(`python3 instance, warm image and cached code: apply -> Ready ${Date.now() - t0} ms; start -> loader ready ${await loaderReadyMs('add-bbbbb')} ms`);
    expect(await run(q, { a: 40, b: 2 })).toEqual({ sum: 42 });
    expect(await events('add-bbbbb')).toContain(`Container image "${RUNTIME_IMAGE_LATEST.python3}" already present on machine`);
  });

  it('runs a node command instance', async () => {
    const digest = await deploy('add-js', 'node', {
      'add_cmd.js': 'const e = JSON.parse(process.argv[process.argv.length - 1]);\nconsole.log(JSON.stringify({ sum: e.a + e.b }));\n',
    }, ['--command', 'node add_cmd.js']);
    const uid = await functionUid('add-js');
    let t0 = Date.now();
    await apply(instancePod('add-js-ccccc', 'add-js', 'node', { MK_FUNCTION_COMMAND: 'node add_cmd.js' }, digest, uid));
    const p = await waitReady('add-js-ccccc');
    timings.push(`node instance, image built on demand: apply -> Ready ${Date.now() - t0} ms; start -> loader ready ${await loaderReadyMs('add-js-ccccc')} ms`);
    expect(await run(p, { a: 1, b: 2 })).toEqual({ sum: 3 });
    // A second one with the image on the node: the cold start the fast readiness is for.
    t0 = Date.now();
    await apply(instancePod('add-js-ggggg', 'add-js', 'node', { MK_FUNCTION_COMMAND: 'node add_cmd.js' }, digest, uid));
    const q = await waitReady('add-js-ggggg');
    timings.push(`node instance, warm image and cached code: apply -> Ready ${Date.now() - t0} ms; start -> loader ready ${await loaderReadyMs('add-js-ggggg')} ms`);
    expect(await run(q, { a: 2, b: 3 })).toEqual({ sum: 5 });
  });

  it("shows the loader's message in the logs of a pod whose code does not load", async () => {
    await apply(instancePod('add-ddddd', 'add', 'python3', { MK_FUNCTION_HANDLER: 'broken.handler' }, addDigest));
    const log = await waitFor('the load failure in the pod\'s log', async () => {
      for (const args of [['logs', 'add-ddddd'], ['logs', 'add-ddddd', '--previous']]) {
        const r = await c.mk(args);
        if (r.stdout.includes('failed')) return r.stdout;
      }
      return null;
    }, 120_000, 500);
    expect(log).toMatch(/mk-loader: init of handler broken\.handler from \/code failed: ModuleNotFoundError: No module named 'no_such_module_anywhere'/);
    const p = await waitFor('a restart', async () => {
      const pod = await getPod('add-ddddd');
      return (pod.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? pod : null;
    }, 120_000, 500);
    expect(p.status?.containerStatuses?.[0]?.lastState.terminated?.exitCode).toBe(1);
    expect(ready(p)).toBe(false);
  });

  it('waits in ContainerCreating with FailedMount naming the digest when the code is not in the store', async () => {
    const missing = `sha256:${'0'.repeat(64)}`;
    await apply(instancePod('add-fffff', 'add', 'python3', { MK_FUNCTION_HANDLER: 'add.handler' }, missing));
    const ev = await waitFor('FailedMount', async () => { const e = await events('add-fffff'); return e.includes('FailedMount') ? e : null; }, 60_000, 500);
    expect(ev).toContain(`function code ${missing} not found in the code store`);
    expect((await getPod('add-fffff')).status?.containerStatuses?.[0]?.state.waiting?.reason).toBe('ContainerCreating');
    expect((await c.mk(['delete', 'pod', 'add-fffff'])).code).toBe(0);
  });

  it('leaves no mount or directory of a deleted instance pod', async () => {
    const uids = await Promise.all(['add-aaaaa', 'add-bbbbb', 'add-js-ccccc', 'add-js-ggggg', 'add-ddddd'].map(async (n) => (await getPod(n)).metadata.uid!));
    const hex = addDigest.slice('sha256:'.length);
    // Inside the container the code is a read-only mount at /code.
    const inside = await c.mk(['exec', 'add-aaaaa', '--', 'sh', '-c', "grep ' /code ' /proc/self/mountinfo; touch /code/x 2>/dev/null && echo writable || echo read-only"]);
    expect(inside.stdout).toMatch(new RegExp(`/function-code/${hex} /code ro[, ]`));
    expect(inside.stdout).toContain('read-only');
    const podsRoot = path.join(path.dirname(codeCache()), 'pods');
    expect(uids.every((u) => fs.existsSync(path.join(podsRoot, u)))).toBe(true);
    const r = await c.mk(['delete', 'pod', 'add-aaaaa', 'add-bbbbb', 'add-js-ccccc', 'add-js-ggggg', 'add-ddddd']);
    expect(r.code).toBe(0);
    await waitFor('the pods gone', async () => ((await c.mk(['get', 'pods', '-o', 'name'])).stdout.trim() === '' ? true : null), 120_000, 500);
    // add-fffff (the test before) is gone too.
    await waitFor('no mount or directory of theirs on the node', async () => (
      mountsMentioning(hex).length === 0 && uids.every((u) => mountsMentioning(u).length === 0 && !fs.existsSync(path.join(podsRoot, u))) ? true : null
    ), 60_000, 500);
    // The code stays cached for a while after its last pod.
    expect(fs.readdirSync(codeCache())).toContain(hex);
  });

  it('finishes setting up a pod whose node agent was SIGKILLed on the way, clearing an unfinished unpack', async () => {
    const digest = await deploy('mul', 'python3', { 'mul.py': 'def handler(event):\n    return {"product": event["a"] * event["b"]}\n' }, ['--handler', 'mul.handler']);
    // What an agent killed in the middle of unpacking leaves.
    const cache = codeCache();
    const leftover = path.join(cache, `.tmp-${digest.slice('sha256:'.length)}-deadbeef`);
    fs.mkdirSync(path.join(leftover, 'half'), { recursive: true });
    const pid = c.pidOf(' node-agent');
    expect(pid).toBeDefined();
    await apply(instancePod('mul-eeeee', 'mul', 'python3', { MK_FUNCTION_HANDLER: 'mul.handler' }, digest));
    await waitFor('the pod bound to the node', async () => ((await getPod('mul-eeeee')).spec.nodeName ? true : null), 60_000, 50);
    process.kill(pid!, 'SIGKILL');
    await waitFor('node agent restarted', async () => { const p = c.pidOf(' node-agent'); return p !== undefined && p !== pid; }, 60_000);
    const p = await waitReady('mul-eeeee');
    expect(await run(p, { a: 6, b: 7 })).toEqual({ product: 42 });
    expect(fs.existsSync(leftover)).toBe(false);
    expect(fs.readdirSync(cache).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    expect((await c.mk(['delete', 'pod', 'mul-eeeee'])).code).toBe(0);
  });
});
