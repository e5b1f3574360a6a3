/**
 * Functions end to end without containerd: a real nats-server, the real control plane (the
 * function controller), the real gateway, and a fake node (test/helpers/fake-function-node.ts)
 * that runs each instance pod as the real python loader on 127.0.0.<n>:8080. Calls go over HTTP,
 * NATS and the built CLI (python and node handlers, a python command); instances come from zero on the first call, go to zero when idle, follow
 * a burst up and down, and drain before they go; errors come back with the right codes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runControlPlane } from '../../../actors';
import { connectCore, type CoreBus } from '../../../bus/core-client';
import { openCodeBucket, pack, putCode } from '../../../bus/function-code';
import { startGateway, type Gateway } from '../../../embedded/gateway/gateway';
import {
  API, FUNCTION_LABEL, functionInvokeSubject, objectKey, type FunctionObject, type InvokeReply, type Pod,
} from '../../../messages';
import { startFakeFunctionNode, type FakeFunctionNode } from '../../helpers/fake-function-node';
import { waitFor } from '../../helpers/nats-server';
import { startCliCluster, stopCliCluster, type CliCluster } from '../cli/cli-cluster';
import { ROOT, runCli } from '../cli/run-cli';
import { DEFAULT_INVOKE_TIMEOUT_SECONDS } from '../../../cli/commands/function/invoke';

jest.setTimeout(180_000);

let cluster: CliCluster;
let node: FakeFunctionNode;
let gwBus: CoreBus;
let gw: Gateway;
let code: string;

/** Packs and uploads `files` (name -> text) and applies a Function with `spec` and `annotations`. */
async function deploy(name: string, files: Record<string, string>, spec: Record<string, unknown>, annotations: Record<string, string> = {}): Promise<void> {
  const dir = path.join(code, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  const packed = pack(dir);
  await putCode(await openCodeBucket(cluster.bus.nc), packed);
  await cluster.store.bus.nc.request(API.apply, new TextEncoder().encode(JSON.stringify({
    object: {
      apiVersion: 'mk.io/v1', kind: 'Function', metadata: { name, namespace: 'default', annotations },
      spec: { runtime: 'python3', code: { digest: packed.digest, size: packed.size, files: packed.files }, ...spec },
    },
  })));
  await waitFor(async () => (await cluster.store.get<FunctionObject>(objectKey('functions', 'default', name)))?.object.status?.conditions, `${name} has a status`, 20_000);
}

const http = async (name: string, body: string): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> => {
  const res = await fetch(`${gw.url}/function/default/${name}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: await res.json() as Record<string, unknown>, headers: res.headers };
};
const instancesOf = async (name: string): Promise<Pod[]> => (await cluster.store.list<Pod>('pods.default.>')).items
  .map((i) => i.object).filter((p) => p.metadata.labels?.[FUNCTION_LABEL] === name);
const statusOf = async (name: string) => (await cluster.store.get<FunctionObject>(objectKey('functions', 'default', name)))?.object.status;

const ADD = fs.readFileSync(path.join(ROOT, 'examples', 'functions', 'add.py'), 'utf8');

beforeAll(async () => {
  cluster = await startCliCluster('fngw');
  code = path.join(cluster.dir, 'code');
  node = await startFakeFunctionNode(cluster.store);
  gwBus = await connectCore({ servers: cluster.server.url, name: 'fngw-gateway' });
  gw = await startGateway({ bus: gwBus, port: 0 });
}, 300_000);

afterAll(async () => {
  await gw?.stop();
  await gwBus?.close();
  await node?.stop();
  await stopCliCluster(cluster ?? {});
});

describe('calls', () => {
  it('deploys add.py and scales it from zero on the first HTTP call', async () => {
    await deploy('add', { 'add.py': ADD }, { handler: 'add.handler', idleSeconds: 120 });
    expect(await instancesOf('add')).toHaveLength(0);
    expect((await statusOf('add'))?.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'True', reason: 'ScaledToZero' });
    const r = await http('add', '{"a":1,"b":2}');
    expect(r).toMatchObject({ status: 200, body: { sum: 3 } });
    // One waiting call at concurrency 1 asks for ceil(1 / (1 x 0.7)) = 2 instances.
    expect(await instancesOf('add')).toHaveLength(2);
    const st = await waitFor(async () => { const s = await statusOf('add'); return s?.readyInstances === 2 && s.url ? s : undefined; }, 'status counts the instances', 10_000);
    expect(st).toMatchObject({ instances: 2, readyInstances: 2, url: `${gw.url}/function/default/add` });
    expect(st.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ reason: 'InstancesReady' });
    expect(st.lastInvocation).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await instancesOf('add'))[0].spec.containers[0]).toMatchObject({
      image: 'registry.mk.local/mk-runtime-python3:latest', env: [{ name: 'MK_FUNCTION_HANDLER', value: 'add.handler' }, { name: 'MK_FUNCTION_TIMEOUT_SECONDS', value: '60' }],
    });
  });

  it('answers over NATS with a {status, body} envelope', async () => {
    const msg = await cluster.bus.nc.request(functionInvokeSubject('default', 'add'), new TextEncoder().encode('{"a":2,"b":40}'), { timeout: 10_000 });
    expect(JSON.parse(new TextDecoder().decode(msg.data)) as InvokeReply).toEqual({ status: 200, body: { sum: 42 } });
  });

  it('answers `mk function invoke`, and exits 1 with the error for an unknown function', async () => {
    const env = { MK_HOME: cluster.dir };
    expect(await runCli(['function', 'invoke', 'add', '--data', '{"a":1,"b":2}'], { env, timeoutMs: 60_000 })).toEqual({ code: 0, stdout: '{"sum":3}\n', stderr: '' });
    const missing = await runCli(['function', 'invoke', 'nope', '--data', '{}'], { env, timeoutMs: 60_000 });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('function "nope" not found in namespace "default"');
  });

  it('`mk function invoke` waits 1830 s by default, as its --help says, and honours a smaller --timeout', async () => {
    const env = { MK_HOME: cluster.dir };
    const help = await runCli(['function', 'invoke', '--help'], { env, timeoutMs: 60_000 });
    expect(help.code).toBe(0);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('seconds to wait for the answer (default: 1830:');
    expect(DEFAULT_INVOKE_TIMEOUT_SECONDS).toBe(1830);
    // The handler answers only once the file `gate` exists, which the test makes after the CLI
    // has exited: the CLI cannot have had the answer, nor the gateway's 504 (after the function's
    // 30 s), so its TIMEOUT is its own --timeout's.
    const gate = path.join(cluster.dir, 'sleepy-gate');
    await deploy('sleepy', {
      'sleepy.py': 'import os, time\ndef handler(event):\n    while not os.path.exists(event["gate"]):\n        time.sleep(0.05)\n    return "woke"\n',
    }, { handler: 'sleepy.handler', timeoutSeconds: 30 });
    try {
      const started = Date.now();
      const short = await runCli(['function', 'invoke', 'sleepy', '--data', JSON.stringify({ gate }), '--timeout', '2'], { env, timeoutMs: 60_000 });
      expect(short.code).toBe(1);
      expect(short.stdout).toBe('');
      expect(short.stderr).toMatch(/calling mk\.fn\.invoke\.default\.sleepy failed: .*TIMEOUT/i);
      // Not sooner than the 2 s it was given (a slow machine only makes this longer).
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    } finally {
      fs.writeFileSync(gate, '');
    }
  });

  it('runs a node function and a command-style python function', async () => {
    await deploy('hello', { 'hello.js': 'exports.handler = async (event) => ({ greeting: `hello ${event.name}` });\n' }, { runtime: 'node', handler: 'hello.handler' });
    expect(await http('hello', '{"name":"mk"}')).toMatchObject({ status: 200, body: { greeting: 'hello mk' } });
    expect((await instancesOf('hello'))[0].spec.containers[0].image).toBe('registry.mk.local/mk-runtime-node:latest');
    await deploy('cmd', { 'twice.py': 'import json, sys\nprint(json.dumps({"twice": json.loads(sys.argv[1])["n"] * 2}))\n' }, { command: 'python3 twice.py' });
    expect(await http('cmd', '{"n":21}')).toMatchObject({ status: 200, body: { twice: 42 } });
  });
});

describe('errors', () => {
  it('404 for an unknown function, 413 for a body over 6 MiB, 400 for a body that is not JSON', async () => {
    expect(await http('nope', '{}')).toMatchObject({ status: 404, body: { error: 'function "nope" not found in namespace "default"' } });
    const big = await http('add', JSON.stringify({ a: 'x'.repeat(6 * 1024 * 1024) }));
    expect(big.status).toBe(413);
    expect(big.body.error).toContain('6 MiB');
    const bad = await http('add', '{"a":');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/not valid JSON/);
  });

  it("passes a throwing handler's 500 through with its message and trace", async () => {
    await deploy('boom', { 'boom.py': 'def handler(event):\n    raise ValueError("no good: " + str(event["x"]))\n' }, { handler: 'boom.handler' });
    const r = await http('boom', '{"x":7}');
    expect(r.status).toBe(500);
    expect(r.body.error).toBe('ValueError: no good: 7');
    expect(r.body.trace).toContain('boom.py');
  });

  it('504 for a call past the timeout, and the instance that held it is recycled', async () => {
    await deploy('slow', { 'slow.py': 'import time\ndef handler(event):\n    time.sleep(event["s"])\n    return "done"\n' }, { handler: 'slow.handler', timeoutSeconds: 1, minInstances: 1, maxInstances: 1 });
    await waitFor(async () => (await statusOf('slow'))?.readyInstances === 1, 'the kept instance is ready', 20_000);
    expect(await http('slow', '{"s":0}')).toMatchObject({ status: 200, body: 'done' });
    const [first] = await instancesOf('slow');
    const r = await http('slow', '{"s":3}');
    expect(r.status).toBe(504);
    expect(r.body.error).toContain('1s');
    await waitFor(async () => !(await instancesOf('slow')).some((p) => p.metadata.uid === first.metadata.uid), 'the timed-out instance is deleted', 15_000);
    expect(await http('slow', '{"s":0}')).toMatchObject({ status: 200, body: 'done' });
  });
});

describe('scaling', () => {
  it('scales to zero after idleSeconds, then a cold call succeeds', async () => {
    await deploy('idle', { 'add.py': ADD }, { handler: 'add.handler', idleSeconds: 2 }, { 'mk.io/scale-down-window': '1' });
    expect(await http('idle', '{"a":1,"b":1}')).toMatchObject({ status: 200, body: { sum: 2 } });
    await waitFor(async () => (await instancesOf('idle')).length === 0, 'scaled to zero', 20_000);
    expect(await statusOf('idle')).toMatchObject({ instances: 0 });
    expect(await http('idle', '{"a":2,"b":2}')).toMatchObject({ status: 200, body: { sum: 4 } });
  });

  it('a burst of 200 concurrent calls from zero is all answered, none 5xx', async () => {
    await deploy('burst', { 'slowadd.py': 'import time\ndef handler(event):\n    time.sleep(0.05)\n    return event["i"] * 2\n' },
      { handler: 'slowadd.handler', concurrency: 5, maxInstances: 8 });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => http('burst', JSON.stringify({ i }))));
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect(results.map((r) => r.body)).toEqual(Array.from({ length: 200 }, (_, i) => i * 2));
    expect((await instancesOf('burst')).length).toBeGreaterThan(1);
  });

  it('scales down while calls run, draining first; no call is lost', async () => {
    await deploy('down', { 'slowadd.py': 'import time\ndef handler(event):\n    time.sleep(0.1)\n    return event["i"]\n' },
      { handler: 'slowadd.handler', concurrency: 1, maxInstances: 6, idleSeconds: 60 }, { 'mk.io/scale-down-window': '1' });
    let i = 0;
    const failures: unknown[] = [];
    const worker = async (until: () => boolean) => {
      while (!until()) {
        const n = i++;
        const r = await http('down', JSON.stringify({ i: n }));
        if (r.status !== 200 || r.body as unknown !== n) failures.push(r);
      }
    };
    let high = true;
    const heavy = Array.from({ length: 6 }, () => worker(() => !high));
    await waitFor(async () => (await instancesOf('down')).filter((p) => p.status?.podIP).length >= 4, 'scaled up under load', 30_000);
    high = false;
    await Promise.all(heavy);
    let low = true;
    const light = worker(() => !low);
    const drained = await waitFor(async () => (await instancesOf('down')).find((p) => p.metadata.annotations?.['mk.io/draining'] === 'true'), 'an instance drains', 20_000);
    await waitFor(async () => !(await instancesOf('down')).some((p) => p.metadata.uid === drained.metadata.uid), 'the drained instance goes', 20_000);
    await waitFor(async () => (await instancesOf('down')).length <= 2, 'scaled down', 30_000);
    low = false;
    await light;
    expect(failures).toEqual([]);
  });
});

/** Starts `mk gateway --port <port>` (0: a free one) as a process; resolves with it and its URL once it serves. */
async function gatewayProcess(port: number): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'run.js'), 'gateway', '--port', String(port)], {
    env: { ...process.env, MK_HOME: cluster.dir }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let text = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mk gateway did not start: ${text}`)), 30_000);
    child.stderr!.on('data', (c: Buffer) => {
      text += c.toString();
      const m = /serving functions on (http:\/\/[\d.]+:\d+)\//.exec(text);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`mk gateway exited ${code}: ${text}`)); });
  });
  child.stderr!.resume();
  return { child, url };
}

const killed = (child: ChildProcess): Promise<void> => new Promise((resolve) => {
  if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
  child.once('exit', () => resolve());
  child.kill('SIGKILL');
});

describe('updates', () => {
  it('a changed spec replaces the instances, new before old, while calls go on', async () => {
    await deploy('roll', { 'add.py': ADD }, { handler: 'add.handler', minInstances: 2, maxInstances: 2 });
    const old = await waitFor(async () => {
      const pods = (await instancesOf('roll')).filter((p) => p.status?.podIP);
      return pods.length === 2 ? pods.map((p) => p.metadata.uid) : undefined;
    }, 'two instances', 20_000);
    let go = true;
    const statuses: number[] = [];
    const traffic = (async () => {
      while (go) statuses.push((await http('roll', '{"a":1,"b":2}')).status);
    })();
    await deploy('roll', { 'add.py': ADD }, { handler: 'add.handler', minInstances: 2, maxInstances: 2, env: [{ name: 'VERSION', value: '2' }] });
    await waitFor(async () => {
      const pods = await instancesOf('roll');
      return pods.length === 2 && pods.every((p) => !old.includes(p.metadata.uid) && p.status?.podIP) ? pods : undefined;
    }, 'two new instances and no old one', 30_000);
    go = false;
    await traffic;
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect((await instancesOf('roll'))[0].spec.containers[0].env).toContainEqual({ name: 'VERSION', value: '2' });
  });
});

describe('restarts', () => {
  it('`mk gateway` as its own process, SIGKILLed mid-work and started again on its port, answers calls', async () => {
    let p = await gatewayProcess(0);
    try {
      const call = async (body: string) => {
        const res = await fetch(`${p.url}/function/default/add`, { method: 'POST', body });
        return { status: res.status, body: await res.json() as unknown };
      };
      expect(await call('{"a":20,"b":22}')).toEqual({ status: 200, body: { sum: 42 } });
      const port = Number(new URL(p.url).port);
      const midway = Promise.allSettled(Array.from({ length: 20 }, (_, i) => call(JSON.stringify({ a: i, b: 0 }))));
      await killed(p.child);
      await midway;
      p = await gatewayProcess(port);
      expect(await call('{"a":1,"b":1}')).toEqual({ status: 200, body: { sum: 2 } });
      const metrics = await (await fetch(`${p.url}/metrics`)).text();
      expect(metrics).toMatch(/mk_gateway_requests_total\{namespace="default",function="add",code="200"\} 1/);
    } finally {
      await killed(p.child);
    }
  });

  it('a gateway stopped mid-work and started again answers calls', async () => {
    const inflight = Promise.all(Array.from({ length: 5 }, (_, i) => http('add', JSON.stringify({ a: i, b: 1 })).catch(() => undefined)));
    await gw.stop();
    await inflight;
    gw = await startGateway({ bus: gwBus, port: 0 });
    expect(await http('add', '{"a":5,"b":6}')).toMatchObject({ status: 200, body: { sum: 11 } });
  });

  it('the control plane restarted mid-traffic: calls go on, no instance is made twice', async () => {
    const before = (await instancesOf('add')).map((p) => p.metadata.name).sort();
    let go = true;
    const results: number[] = [];
    const traffic = (async () => {
      let n = 0;
      while (go) results.push((await http('add', JSON.stringify({ a: n++, b: 0 }))).status);
    })();
    await cluster.cp.stop();
    cluster.cp = await runControlPlane({ bus: { servers: cluster.server.url, name: 'cp-cli-fngw-2' } });
    const restarted = Date.now();
    await waitFor(async () => {
      const st = await statusOf('add');
      return st?.readyInstances === before.length && Date.parse(st.lastInvocation ?? '') >= Math.floor(restarted / 1000) * 1000 + 1000;
    }, 'the new control plane writes status from the gateways\' reports', 20_000);
    go = false;
    await traffic;
    expect(results.length).toBeGreaterThan(0);
    expect(results.filter((s) => s !== 200)).toEqual([]);
    expect((await instancesOf('add')).map((p) => p.metadata.name).sort()).toEqual(before);
  });
});
