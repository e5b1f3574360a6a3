/**
 * Function runtime images end to end on a private containerd in a test network namespace: both
 * images are built from this machine's interpreters and imported, a second build is a cache hit,
 * and a container of each, with a host dir of code bind-mounted read-only at /code, answers
 * /init and /run from the namespace. Prints build and cold-start timings.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { RUNTIME_IMAGE_LATEST } from '../../../messages/function-names';
import type { PodSandboxConfig } from '../../../node-agent/cri/types';
import { buildRuntimeImage, CODE_DIR, ensureRuntimeImages, LOADER_PORT, type FunctionRuntime } from '../../../node-agent/images/runtime-images';
import type { ImageProgress } from '../../../node-agent/images/build';
import { containerdE2eUnavailable, startTestContainerd, type TestContainerd } from '../../helpers/containerd';
import { createNetns, type TestNetns } from '../../helpers/netns';
import { until } from '../../helpers/wait';

const unavailable = containerdE2eUnavailable();
if (unavailable) console.warn(`skipping function runtime e2e tests: ${unavailable} (needs root, containerd, runc, CNI plugins, busybox-static)`);
const suite = unavailable ? describe.skip : describe;

jest.setTimeout(240_000);

/** Each runtime's code, both styles: a handler, and a command that reads the event from its argument. */
const CODE: Record<FunctionRuntime, { files: Record<string, string>; command: string }> = {
  python3: {
    files: {
      'add.py': 'def handler(event):\n    print("adding", event["a"], event["b"])\n    return {"sum": event["a"] + event["b"]}\n',
      'add_cmd.py': 'import json, sys\ne = json.loads(sys.argv[-1])\nprint("adding", e["a"], e["b"], file=sys.stderr)\nprint(json.dumps({"sum": e["a"] + e["b"]}))\n',
    },
    command: 'python3 add_cmd.py',
  },
  node: {
    files: {
      'add.js': 'exports.handler = async (event) => {\n  console.log("adding", event.a, event.b);\n  return { sum: event.a + event.b };\n};\n',
      'add_cmd.js': 'const e = JSON.parse(process.argv[process.argv.length - 1]);\nconsole.error("adding", e.a, e.b);\nconsole.log(JSON.stringify({ sum: e.a + e.b }));\n',
    },
    command: 'node add_cmd.js',
  },
};

// Runs in the test's namespace (where pod IPs route): POSTs /init then /run, prints both answers.
const CLIENT = `
const [base, init, event] = process.argv.slice(1);
const call = async (p, body) => { const r = await fetch(base + p, { method: 'POST', body }); return { status: r.status, body: await r.json() }; };
(async () => { const i = await call('/init', init); const r = await call('/run', event); console.log(JSON.stringify({ init: i, run: r })); })()
  .catch((e) => { console.error(String(e)); process.exit(1); });
`;

suite('function runtime images on a private containerd', () => {
  let ns: TestNetns;
  let ctrd: TestContainerd;
  let workDir: string;
  let codeRoot: string;
  const images: Partial<Record<FunctionRuntime, string>> = {};
  const timings: string[] = [];

  beforeAll(async () => {
    ns = await createNetns('mkfnrt');
    ctrd = await startTestContainerd({ netns: ns });
    // A fresh cache dir: the first build below is a cold one.
    workDir = await mkdtemp('/tmp/mk-fnrt-images-');
    codeRoot = await mkdtemp('/tmp/mk-fnrt-code-');
  });

  afterAll(async () => {
    await ctrd?.stop();
    await ns?.destroy();
    for (const d of [workDir, codeRoot]) if (d) await rm(d, { recursive: true, force: true });
    if (timings.length > 0) console.log(`function runtime timings:\n  ${timings.join('\n  ')}`);
  });

  it('builds and imports both runtime images, then a second build is a cache hit and a second ensure imports nothing', async () => {
    const steps: ImageProgress[] = [];
    let t0 = Date.now();
    const first = await ensureRuntimeImages(ctrd.cri, { socketPath: ctrd.socketPath, workDir, snapshotter: ctrd.process.snapshotter, onProgress: (e) => steps.push(e) });
    timings.push(`cold build + import of both images: ${Date.now() - t0} ms`);
    expect(first.images.python3).toMatch(/^registry\.mk\.local\/mk-runtime-python3:[0-9a-f]{12}$/);
    expect(first.images.node).toMatch(/^registry\.mk\.local\/mk-runtime-node:[0-9a-f]{12}$/);
    expect(first.imported.sort()).toEqual([first.images.python3, first.images.node, RUNTIME_IMAGE_LATEST.python3, RUNTIME_IMAGE_LATEST.node].sort());
    expect(steps.filter((s) => s.done).map((s) => s.step)).toEqual(['imported', 'imported']);
    Object.assign(images, first.images);
    const tags = (await ctrd.cri.listImages({})).images.flatMap((i) => i.repoTags);
    expect(tags).toEqual(expect.arrayContaining([first.images.python3, first.images.node, RUNTIME_IMAGE_LATEST.python3, RUNTIME_IMAGE_LATEST.node]));

    for (const runtime of ['python3', 'node'] as const) {
      t0 = Date.now();
      const again = await buildRuntimeImage(runtime, workDir);
      timings.push(`warm build (cache hit) of ${runtime}: ${Date.now() - t0} ms`);
      expect(again).toEqual({ names: [first.images[runtime], RUNTIME_IMAGE_LATEST[runtime]], tarPath: expect.stringContaining(workDir), cached: true });
    }

    t0 = Date.now();
    const second = await ensureRuntimeImages(ctrd.cri, { socketPath: ctrd.socketPath, workDir, snapshotter: ctrd.process.snapshotter });
    timings.push(`second ensureRuntimeImages (images present): ${Date.now() - t0} ms`);
    expect(second).toEqual({ imported: [], present: [first.images.python3, RUNTIME_IMAGE_LATEST.python3, first.images.node, RUNTIME_IMAGE_LATEST.node], images: first.images });
  });

  it.each([
    ['python3', 'handler'], ['node', 'handler'], ['python3', 'command'], ['node', 'command'],
  ] as const)('runs the %s runtime (%s style) with code mounted at /code: /init then /run gives {"sum":3}', async (runtime, style) => {
    const image = images[runtime];
    if (!image) throw new Error('the images were not built (the test before failed)');
    const name = `fn-${runtime}-${style}`;
    const codeDir = path.join(codeRoot, name);
    await mkdir(codeDir, { recursive: true });
    for (const [file, text] of Object.entries(CODE[runtime].files)) await writeFile(path.join(codeDir, file), text);

    const uid = `uid-${name}`;
    const sandboxConfig: PodSandboxConfig = {
      metadata: { name, uid, namespace: 'default', attempt: 0 },
      hostname: name,
      logDirectory: `${ctrd.dataDir}/pods/default_${name}_${uid}`,
      linux: { cgroupParent: ctrd.cgroupParent },
    };
    const { podSandboxId } = await ctrd.cri.runPodSandbox({ config: sandboxConfig });
    const podIP = (await ctrd.cri.podSandboxStatus({ podSandboxId })).status?.network?.ip ?? '';
    expect(podIP).not.toBe('');
    const { containerId } = await ctrd.cri.createContainer({
      podSandboxId,
      sandboxConfig,
      config: {
        metadata: { name: 'function', attempt: 0 },
        image: { image },
        mounts: [{ containerPath: CODE_DIR, hostPath: codeDir, readonly: true }],
        logPath: 'function/0.log',
      },
    });
    const t0 = Date.now();
    await ctrd.cri.startContainer({ containerId });
    const base = `http://${podIP}:${LOADER_PORT}`;
    // /healthz answers 503 until /init: the loader is up once it answers at all.
    await until(`the ${runtime} loader to answer`, async () => {
      const r = await ns.run(['/bin/busybox', 'wget', '-qO-', `${base}/healthz`], { timeoutMs: 5_000 });
      return /503|200/.test(`${r.stdout}${r.stderr}`) ? true : undefined;
    }, 60_000, 20);
    const upMs = Date.now() - t0;

    const t1 = Date.now();
    const init = style === 'handler' ? { codeDir: CODE_DIR, handler: 'add.handler' } : { codeDir: CODE_DIR, command: CODE[runtime].command };
    const r = await ns.run([process.execPath, '-e', CLIENT, base, JSON.stringify(init), JSON.stringify({ a: 1, b: 2 })], { timeoutMs: 30_000 });
    const callMs = Date.now() - t1;
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ init: { status: 200, body: { ready: true } }, run: { status: 200, body: { sum: 3 } } });
    const ready = await ns.run(['/bin/busybox', 'wget', '-qO-', `${base}/healthz`], { timeoutMs: 5_000 });
    expect(JSON.parse(ready.stdout)).toEqual({ ready: true });
    timings.push(`${runtime} (${style}): container start to loader answering ${upMs} ms; /init + /run (with a node client's start) ${callMs} ms`);

    // The handler's print and the loader's own lines are in the container's log (what `mk logs` reads).
    const status = (await ctrd.cri.containerStatus({ containerId })).status;
    const log = await until('the handler output in the container log', async () => {
      const text = await readFile(status?.logPath ?? '', 'utf8').catch(() => '');
      return text.includes('adding 1 2') ? text : undefined;
    }, 10_000);
    expect(log).toMatch(/ stderr F mk-loader: \S+ \S+ listening on 0\.0\.0\.0:8080/);
    expect(log).toMatch(new RegExp(` stderr F mk-loader: init: ${style === 'handler' ? 'handler add\\.handler' : `command ${CODE[runtime].command}`} from /code loaded in \\d+ ms`));
    // A handler prints to stdout; the command's stdout is its result, its stderr reaches the log.
    expect(log).toMatch(style === 'handler' ? / stdout F adding 1 2/ : / stderr F adding 1 2/);

    // The code is mounted read-only and the loader runs from the image's working dir.
    const ro = await ctrd.cri.execSync({ containerId, cmd: ['sh', '-c', 'pwd; touch /code/x 2>/dev/null && echo writable || echo read-only'], timeout: 10 });
    expect(ro.stdout.toString().split('\n').slice(0, 2)).toEqual([CODE_DIR, 'read-only']);

    await ctrd.cri.stopContainer({ containerId, timeout: 5 });
    expect((await ctrd.cri.containerStatus({ containerId })).status?.exitCode).toBe(0);
    await ctrd.cri.stopPodSandbox({ podSandboxId });
    await ctrd.cri.removePodSandbox({ podSandboxId });
  });
});
