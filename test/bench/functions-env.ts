/**
 * What the functions benchmark stands on, inside the cluster's network namespace: its functions'
 * code and deployment (the code bucket and mk.api.apply, as `mk function deploy` does), timed
 * calls to the gateway, waiting for instances to be Ready or gone, the node's pool counter, and
 * the interpreter's start on the host (the loader spawned with the code until it is ready).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { request, type Bus } from '../../bus';
import { openCodeBucket, pack, putCode } from '../../bus/function-code';
import {
  API, FUNCTION_LABEL, SCALE_DOWN_WINDOW_ANNOTATION, type FunctionObject, type GetResult, type KubeObject, type ListResult, type Pod,
} from '../../messages';
import type { CriClient } from '../../node-agent/cri';
import { freePort } from '../../embedded/metrics-endpoints';
import { until } from '../helpers/wait';
import { parsePoolCounter, type BenchRuntime } from './functions-report';

// The repository root, from the sources (test/bench) or the build (dist/test/bench).
const ROOT = ((d) => (path.basename(d) === 'dist' ? path.dirname(d) : d))(path.join(__dirname, '..', '..'));
/** The loader instances run, per runtime (the same files the runtime images hold). */
const LOADERS: Record<BenchRuntime, string[]> = {
  python3: ['python3', path.join(ROOT, 'node-agent', 'functions', 'loader.py')],
  node: [process.execPath, path.join(ROOT, 'node-agent', 'functions', 'loader.js')],
};

/** The handler every benchmark function names. */
export const HANDLER = 'bench.handler';
/** The body every call sends. */
export const CALL_BODY = '{"n":1}';

/** The code of a handler answering `{"ok": true}`, after sleeping `sleepMs` when given. */
export function handlerCode(runtime: BenchRuntime, sleepMs = 0): { file: string; text: string } {
  if (runtime === 'python3') {
    return {
      file: 'bench.py',
      text: sleepMs > 0 ? `import time\n\n\ndef handler(event):\n    time.sleep(${sleepMs / 1000})\n    return {"ok": True}\n` : 'def handler(event):\n    return {"ok": True}\n',
    };
  }
  return {
    file: 'bench.js',
    text: sleepMs > 0
      ? `exports.handler = () => new Promise((resolve) => setTimeout(() => resolve({ ok: true }), ${sleepMs}));\n`
      : 'exports.handler = () => ({ ok: true });\n',
  };
}

/** Writes the handler into a new directory under `scratch` and returns it. */
export function writeCode(scratch: string, runtime: BenchRuntime, sleepMs = 0): string {
  const dir = fs.mkdtempSync(path.join(scratch, `${runtime}-`));
  const { file, text } = handlerCode(runtime, sleepMs);
  fs.writeFileSync(path.join(dir, file), text);
  return dir;
}

/** How a benchmark function scales. */
export interface FunctionShape {
  minInstances?: number; maxInstances?: number; concurrency?: number; idleSeconds?: number;
  /** The controller's scale-down window in seconds (the annotation); its default (60 s) when omitted. */
  scaleDownWindowSeconds?: number;
}

/** Uploads the code in `dir` and creates (or updates) the Function `name`. Throws what the bus or the api says. */
export async function deployFunction(bus: Bus, name: string, runtime: BenchRuntime, dir: string, shape: FunctionShape): Promise<void> {
  const packed = pack(dir);
  await putCode(await openCodeBucket(bus.nc), packed);
  const object = {
    apiVersion: 'mk.io/v1', kind: 'Function',
    metadata: {
      name, namespace: 'default', labels: { bench: 'functions' },
      ...(shape.scaleDownWindowSeconds !== undefined ? { annotations: { [SCALE_DOWN_WINDOW_ANNOTATION]: String(shape.scaleDownWindowSeconds) } } : {}),
    },
    spec: {
      runtime, handler: HANDLER, code: { digest: packed.digest, size: packed.size, files: packed.files },
      ...(shape.minInstances !== undefined ? { minInstances: shape.minInstances } : {}),
      ...(shape.maxInstances !== undefined ? { maxInstances: shape.maxInstances } : {}),
      ...(shape.concurrency !== undefined ? { concurrency: shape.concurrency } : {}),
      ...(shape.idleSeconds !== undefined ? { idleSeconds: shape.idleSeconds } : {}),
    },
  };
  await request(bus, API.apply, { object: object as unknown as KubeObject });
}

/** Deletes the Function (its instances go with it) and waits until none of its pods is left. */
export async function removeFunction(bus: Bus, name: string): Promise<void> {
  await request(bus, API.delete, { kind: 'functions', namespace: 'default', name }).catch(() => undefined);
  await until(`no instance of ${name} left`, async () => ((await instancePods(bus, name, true)).length === 0 ? true : undefined), 120_000, 200);
}

/** The function's instance pods; without `all`, those not being deleted. */
export async function instancePods(bus: Bus, name: string, all = false): Promise<Pod[]> {
  const res = await request<ListResult>(bus, API.list, { kind: 'pods', namespace: 'default', labelSelector: `${FUNCTION_LABEL}=${name}` });
  return (res.items as unknown as Pod[]).filter((p) => all || !p.metadata.deletionTimestamp);
}

const isReady = (p: Pod) => !!p.status?.podIP && !!p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** Waits until `n` instances are Ready and returns their pod IPs. Throws after two minutes. */
export async function readyInstances(bus: Bus, name: string, n: number): Promise<string[]> {
  return until(`${n} ready instances of ${name}`, async () => {
    const ready = (await instancePods(bus, name)).filter(isReady);
    return ready.length >= n ? ready.slice(0, n).map((p) => p.status!.podIP!) : undefined;
  }, 120_000, 200);
}

/**
 * Waits until the function has no instance at all: no pod of it in the store (terminating ones
 * included), status.instances 0, and no sandbox of it left in containerd (so the next call is a
 * true cold start, not one racing the last instance's teardown). Throws after two minutes.
 */
export async function atZero(bus: Bus, cri: CriClient, name: string): Promise<void> {
  await until(`${name} back to zero instances`, async () => {
    if ((await instancePods(bus, name, true)).length > 0) return undefined;
    const fn = (await request<GetResult>(bus, API.get, { kind: 'functions', namespace: 'default', name })).object as unknown as FunctionObject;
    if ((fn.status?.instances ?? 0) > 0) return undefined;
    const sandboxes = (await cri.listPodSandbox({})).items ?? [];
    return sandboxes.some((s) => s.metadata?.name.startsWith(`${name}-`)) ? undefined : true;
  }, 120_000, 100);
}

/** One call's answer and its time in ms (from sending until the whole answer was read). */
export interface TimedCall { status: number; ms: number; body: string }

/** POSTs `body` to `url` on a connection of its own. Rejects on a socket error or after `timeoutMs`. */
export function timedPost(url: string, body: string, timeoutMs = 120_000): Promise<TimedCall> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { clearTimeout(timer); resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, body: Buffer.concat(chunks).toString('utf8') }); });
      res.on('error', (e) => { clearTimeout(timer); reject(e); });
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
    req.end(body);
  });
}

/**
 * The node agent's `mk_function_pool_total` counters by `runtime/result` (its /metrics, whose
 * address `mk up` keeps in `<data-dir>/metrics.json`); null when it exports none or cannot be read.
 */
export async function readPoolCounter(dataDir: string): Promise<Map<string, number> | null> {
  try {
    const endpoints = JSON.parse(fs.readFileSync(path.join(dataDir, 'metrics.json'), 'utf8')) as Record<string, { host: string; port: number } | undefined>;
    const e = endpoints['node-agent'];
    if (!e) return null;
    const res = await fetch(`http://${e.host}:${e.port}/metrics`, { signal: AbortSignal.timeout(10_000) });
    return res.ok ? parsePoolCounter(await res.text()) : null;
  } catch {
    return null;
  }
}

/**
 * The interpreter's start on the host: the runtime's loader spawned with the code in `codeDir`
 * (loaded from the environment, as in an instance) until GET /healthz answers 200, in ms; the
 * loader is killed afterwards. Throws when it exits or is not ready within 30 s.
 */
export async function interpreterStart(runtime: BenchRuntime, codeDir: string): Promise<number> {
  const port = await freePort('127.0.0.1');
  const [cmd, ...args] = LOADERS[runtime];
  const t0 = performance.now();
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin', MK_FUNCTION_HOST: '127.0.0.1', MK_FUNCTION_PORT: String(port),
      MK_FUNCTION_CODE_DIR: codeDir, MK_FUNCTION_HANDLER: HANDLER, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1',
    },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  let exited = false;
  const gone = new Promise<void>((r) => child.once('exit', () => { exited = true; r(); }));
  try {
    return await until(`the ${runtime} loader ready on 127.0.0.1:${port}`, async () => {
      if (exited) throw new Error(`the ${runtime} loader exited: ${stderr}`);
      const ok = await new Promise<boolean>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode === 200)); });
        req.on('error', () => resolve(false));
      });
      return ok ? performance.now() - t0 : undefined;
    }, 30_000, 2);
  } finally {
    if (!exited) child.kill('SIGKILL');
    await gone;
  }
}

/** A scratch directory for the code, removed by the caller. */
export function scratchDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mk-bench-fn-'));
}
