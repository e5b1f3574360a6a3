/**
 * Async function calls end to end without containerd: a real nats-server, the real control plane
 * (which makes the work queue, the dead letters and the results bucket), the real gateway (in this
 * process, and as the built `mk gateway` process for the SIGKILL case) and the fake node running
 * the real python loader. Calls are queued over HTTP, NATS and the CLI; results, retries, dead
 * letters, replay, dedup, scale from zero, callbacks, a killed gateway and a restarted NATS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { connectCore, type CoreBus } from '../../../bus/core-client';
import { openAsyncQueue } from '../../../bus/function-async';
import { openCodeBucket, pack, putCode } from '../../../bus/function-code';
import { startGateway, type Gateway } from '../../../embedded/gateway/gateway';
import {
  API, asyncInvokeSubject, DLQ_LIST_SUBJECT, FUNCTION_LABEL, objectKey, RESULTS_GET_SUBJECT,
  type AsyncResult, type DeadLetter, type FunctionObject, type InvokeReply, type Pod,
} from '../../../messages';
import { startFakeFunctionNode, type FakeFunctionNode } from '../../helpers/fake-function-node';
import { waitFor } from '../../helpers/nats-server';
import { startCliCluster, stopCliCluster, type CliCluster } from '../cli/cli-cluster';
import { ROOT, runCli } from '../cli/run-cli';

jest.setTimeout(240_000);

let cluster: CliCluster;
let node: FakeFunctionNode;
let gwBus: CoreBus;
let gw: Gateway | undefined;
let code: string;
let work: string;
let callbacks: http.Server;
let callbackUrl: string;
/** Callback POSTs received, by the call id they carried. */
const received = new Map<string, AsyncResult[]>();
const spawned: ChildProcess[] = [];

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Packs and uploads `files` and applies a python Function with `spec`. */
async function deploy(name: string, files: Record<string, string>, spec: Record<string, unknown>): Promise<void> {
  const dir = path.join(code, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  const packed = pack(dir);
  await putCode(await openCodeBucket(cluster.bus.nc), packed);
  await cluster.store.bus.nc.request(API.apply, enc.encode(JSON.stringify({
    object: {
      apiVersion: 'mk.io/v1', kind: 'Function', metadata: { name, namespace: 'default', annotations: { 'mk.io/scale-down-window': '1' } },
      spec: { runtime: 'python3', code: { digest: packed.digest, size: packed.size, files: packed.files }, ...spec },
    },
  })));
  await waitFor(async () => (await cluster.store.get<FunctionObject>(objectKey('functions', 'default', name)))?.object.status?.conditions, `${name} has a status`, 20_000);
}

/** Counts its tries per key in a file, fails the first `fail` of them, and marks every run. */
const FLAKY = `import os, time
def handler(event):
    p = os.path.join(event["dir"], event["key"])
    n = (int(open(p).read()) if os.path.exists(p) else 0) + 1
    open(p, "w").write(str(n))
    open(p + ".run." + str(n), "w").close()
    time.sleep(event.get("sleep", 0))
    if n <= event.get("fail", 0):
        raise RuntimeError("try %d fails" % n)
    return {"key": event["key"], "tries": n}
`;

const post = async (url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> => {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.status, body: await res.json() as Record<string, unknown>, headers: res.headers };
};
const queue = (base: string, name: string, event: unknown, headers: Record<string, string> = {}) =>
  post(`${base}/function/default/${name}?async=true`, JSON.stringify(event), headers);
/** The stored result, read from the bucket itself (no gateway may be running). */
const resultOf = async (id: string): Promise<AsyncResult | undefined> => {
  const e = await (await openAsyncQueue(cluster.bus.nc)).results.get(id);
  return e && e.operation === 'PUT' ? e.json<AsyncResult>() : undefined;
};
/** The result as a gateway answers it on RESULTS_GET_SUBJECT. */
const resultViaGateway = async (id: string): Promise<InvokeReply> => {
  const m = await cluster.bus.nc.request(RESULTS_GET_SUBJECT, enc.encode(JSON.stringify({ id })), { timeout: 10_000 });
  return JSON.parse(dec.decode(m.data)) as InvokeReply;
};
const finalResult = (id: string, timeoutMs = 60_000): Promise<AsyncResult> => waitFor(async () => {
  const r = await resultOf(id);
  return r && (r.status === 'Succeeded' || r.status === 'Failed') ? r : undefined;
}, `call ${id} is final`, timeoutMs);
const deadLetters = async (name?: string): Promise<DeadLetter[]> => {
  const m = await cluster.bus.nc.request(DLQ_LIST_SUBJECT, enc.encode(JSON.stringify(name ? { namespace: 'default', name } : {})), { timeout: 10_000 });
  return ((JSON.parse(dec.decode(m.data)) as InvokeReply).body as { items: DeadLetter[] }).items;
};
const instancesOf = async (name: string): Promise<Pod[]> => (await cluster.store.list<Pod>('pods.default.>')).items
  .map((i) => i.object).filter((p) => p.metadata.labels?.[FUNCTION_LABEL] === name && !p.metadata.deletionTimestamp);
const runsOf = (key: string): number => fs.readdirSync(work).filter((f) => f.startsWith(`${key}.run.`)).length;
const env = (): NodeJS.ProcessEnv => ({ MK_HOME: cluster.dir });

/** Starts the built `mk gateway` on a free port; resolves with its process and URL. */
async function spawnGateway(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'run.js'), 'gateway', '--data-dir', cluster.dir, '--port', '0'], {
    env: { ...process.env, MK_HOME: cluster.dir }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  spawned.push(child);
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /serving functions on (http:\/\/[0-9.:]+)\/function/.exec(err);
      if (m) resolve(m[1]);
    });
    child.once('exit', (c) => reject(new Error(`mk gateway exited ${c}: ${err}`)));
  });
  return { child, url };
}
const killHard = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  process.kill(child.pid!, 'SIGKILL');
  await gone;
};

beforeAll(async () => {
  cluster = await startCliCluster('fnasync');
  code = path.join(cluster.dir, 'code');
  work = path.join(cluster.dir, 'work');
  fs.mkdirSync(work);
  node = await startFakeFunctionNode(cluster.store, 'fn-async-node', 20);
  gwBus = await connectCore({ servers: cluster.server.url, name: 'fnasync-gateway' });
  gw = await startGateway({ bus: gwBus, port: 0, async: { backoffMs: [200, 400, 600] } });
  callbacks = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AsyncResult;
      const id = String(req.headers['x-mk-invocation-id']);
      received.set(id, [...(received.get(id) ?? []), r]);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => callbacks.listen(0, '127.0.0.1', () => r()));
  callbackUrl = `http://127.0.0.1:${(callbacks.address() as AddressInfo).port}/done`;
  await deploy('flaky', { 'flaky.py': FLAKY }, { handler: 'flaky.handler', maxInstances: 4, idleSeconds: 5 });
}, 300_000);

afterAll(async () => {
  for (const c of spawned) await killHard(c);
  await gw?.stop();
  await gwBus?.close();
  await node?.stop();
  await new Promise((r) => callbacks?.close(r));
  await stopCliCluster(cluster ?? {});
});

describe('async calls', () => {
  it('answers 202 with an id and a Location, and the result appears; the callback gets it once', async () => {
    const r = await queue(gw!.url, 'flaky', { dir: work, key: 'one' }, { 'x-callback-url': callbackUrl });
    expect(r.status).toBe(202);
    const id = r.body.id as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers.get('location')).toBe(`/function-results/${id}`);
    const res = await finalResult(id);
    expect(res).toMatchObject({ id, namespace: 'default', name: 'flaky', status: 'Succeeded', attempts: 1, result: { key: 'one', tries: 1 } });
    const got = await waitFor(async () => ((await resultOf(id))?.callback?.status === 'Delivered' ? received.get(id) : undefined), 'the callback arrived', 20_000);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ id, status: 'Succeeded', result: { key: 'one', tries: 1 } });
    // The same result over NATS and HTTP.
    expect(await resultViaGateway(id)).toMatchObject({ status: 200, body: { id, status: 'Succeeded' } });
    expect(await resultViaGateway('no-such-call')).toMatchObject({ status: 404 });
    const viaHttp = await fetch(`${gw!.url}/function-results/${id}`);
    expect(viaHttp.status).toBe(200);
    expect(await viaHttp.json()).toMatchObject({ id, status: 'Succeeded' });
  });

  it('retries a call that fails twice: Succeeded after 3 tries', async () => {
    const r = await queue(gw!.url, 'flaky', { dir: work, key: 'twice', fail: 2 });
    expect(r.status).toBe(202);
    const res = await finalResult(r.body.id as string);
    expect(res).toMatchObject({ status: 'Succeeded', attempts: 3, result: { tries: 3 } });
    expect(runsOf('twice')).toBe(3);
  });

  it('gives a call that always fails to the dead letters after 4 tries; mk function dlq lists it and replay runs it again', async () => {
    const r = await queue(gw!.url, 'flaky', { dir: work, key: 'never', fail: 100 }, { 'x-mk-idempotency-key': 'never-1' });
    expect(r.body).toEqual({ id: 'never-1' });
    const res = await finalResult('never-1');
    expect(res).toMatchObject({ status: 'Failed', attempts: 4, code: 500 });
    expect(res.error).toContain('try 4 fails');
    expect(runsOf('never')).toBe(4);
    const dl = await waitFor(async () => (await deadLetters('flaky')).find((d) => d.id === 'never-1'), 'the dead letter', 10_000);
    expect(dl).toMatchObject({ namespace: 'default', name: 'flaky', attempts: 4 });
    expect(dl.lastError).toContain('try 4 fails');

    const listed = await runCli(['function', 'dlq'], { env: env(), timeoutMs: 60_000 });
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+FUNCTION\s+ATTEMPTS\s+LAST ERROR\s+AGE$/);
    expect(lines.some((l) => /^never-1\s+flaky\s+4\s+.*try 4 fails/.test(l))).toBe(true);
    const json = await runCli(['function', 'dlq', 'flaky', '-o', 'json'], { env: env(), timeoutMs: 60_000 });
    expect((JSON.parse(json.stdout) as { items: DeadLetter[] }).items.map((d) => d.id)).toContain('never-1');

    const replayed = await runCli(['function', 'dlq', 'replay', 'never-1'], { env: env(), timeoutMs: 60_000 });
    expect(replayed).toMatchObject({ code: 0 });
    expect(replayed.stdout).toContain('never-1');
    expect((await deadLetters('flaky')).some((d) => d.id === 'never-1')).toBe(false);
    await waitFor(() => runsOf('never') >= 8 || undefined, 'the replayed call ran its 4 tries', 30_000);
    const again = await finalResult('never-1');
    expect(again).toMatchObject({ status: 'Failed', attempts: 8 });
    expect(runsOf('never')).toBe(8);
    await waitFor(async () => (await deadLetters('flaky')).find((d) => d.id === 'never-1'), 'back in the dead letters', 10_000);
  });

  it('accepts a duplicate id once', async () => {
    const first = await queue(gw!.url, 'flaky', { dir: work, key: 'dup', sleep: 0.3 }, { 'x-mk-idempotency-key': 'dup-1' });
    const second = await queue(gw!.url, 'flaky', { dir: work, key: 'dup', sleep: 0.3 }, { 'x-mk-idempotency-key': 'dup-1' });
    expect(first).toMatchObject({ status: 202, body: { id: 'dup-1' } });
    expect(second).toMatchObject({ status: 202, body: { id: 'dup-1', duplicate: true } });
    expect(await finalResult('dup-1')).toMatchObject({ status: 'Succeeded', attempts: 1 });
    // Once more after it finished: still the one run.
    expect(await queue(gw!.url, 'flaky', { dir: work, key: 'dup' }, { 'x-mk-idempotency-key': 'dup-1' })).toMatchObject({ status: 202, body: { duplicate: true } });
    expect(runsOf('dup')).toBe(1);
  });

  it('queues over NATS and through `mk function invoke --async`; `mk function result` prints it', async () => {
    const m = await cluster.bus.nc.request(asyncInvokeSubject('default', 'flaky'),
      enc.encode(JSON.stringify({ body: JSON.stringify({ dir: work, key: 'nats' }), id: 'nats-1' })), { timeout: 10_000 });
    expect(JSON.parse(dec.decode(m.data))).toEqual({ status: 202, body: { id: 'nats-1' } });
    expect(await finalResult('nats-1')).toMatchObject({ status: 'Succeeded', result: { key: 'nats' } });

    const cli = await runCli(['function', 'invoke', 'flaky', '--async', '--data', JSON.stringify({ dir: work, key: 'cli' })], { env: env(), timeoutMs: 60_000 });
    expect(cli.code).toBe(0);
    const id = cli.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await finalResult(id);
    const table = await runCli(['function', 'result', id], { env: env(), timeoutMs: 60_000 });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+FUNCTION\s+STATUS\s+ATTEMPTS\s+AGE\n/);
    expect(table.stdout).toContain('Succeeded');
    const json = await runCli(['function', 'result', id, '-o', 'json'], { env: env(), timeoutMs: 60_000 });
    expect(JSON.parse(json.stdout)).toMatchObject({ id, status: 'Succeeded', result: { key: 'cli', tries: 1 } });
  });

  it('scales a function at zero up for 20 queued calls, and all complete', async () => {
    await deploy('burst', { 'flaky.py': FLAKY }, { handler: 'flaky.handler', maxInstances: 3, idleSeconds: 5 });
    expect(await instancesOf('burst')).toHaveLength(0);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await queue(gw!.url, 'burst', { dir: work, key: `burst${i}`, sleep: 0.1 })).body.id as string);
    for (const id of ids) expect(await finalResult(id)).toMatchObject({ status: 'Succeeded', attempts: 1 });
    for (let i = 0; i < 20; i++) expect(runsOf(`burst${i}`)).toBe(1);
  });

  it('scales on the calls waiting in the stream, not only on those a gateway took', async () => {
    // A gateway that takes one job at a time would ask for ceil(1 / 0.7) = 2 instances on its own
    // queue; the 12 waiting in the stream ask for all 3.
    await gw!.stop();
    gw = await startGateway({ bus: gwBus, port: 0, async: { maxInFlight: 1, backoffMs: [200, 400, 600] } });
    await deploy('deep', { 'flaky.py': FLAKY }, { handler: 'flaky.handler', maxInstances: 3, idleSeconds: 5 });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await queue(gw.url, 'deep', { dir: work, key: `deep${i}`, sleep: 0.5 })).body.id as string);
    await waitFor(async () => (await instancesOf('deep')).length === 3 || undefined, '3 instances for the queued calls', 30_000);
    for (const id of ids) expect(await finalResult(id)).toMatchObject({ status: 'Succeeded', attempts: 1 });
    await gw.stop();
    gw = await startGateway({ bus: gwBus, port: 0, async: { backoffMs: [200, 400, 600] } });
  });
});

describe('bad input', () => {
  it('404 for an unknown function, 413 for a body too large, 400 for a bad callback URL or id, and an unknown id fails `mk function result`', async () => {
    expect(await queue(gw!.url, 'nope', {})).toMatchObject({ status: 404, body: { error: 'function "nope" not found in namespace "default"' } });
    const big = await post(`${gw!.url}/function/default/flaky?async=true`, JSON.stringify({ a: 'x'.repeat(6 * 1024 * 1024) }));
    expect(big.status).toBe(413);
    // Under the sync limit but over what one message on this bus (max_payload 1 MB) carries.
    const overBus = await post(`${gw!.url}/function/default/flaky?async=true`, JSON.stringify({ a: 'x'.repeat(1024 * 1024) }));
    expect(overBus.status).toBe(413);
    expect(overBus.body.error).toContain('max_payload');
    const badCb = await queue(gw!.url, 'flaky', {}, { 'x-callback-url': 'file:///etc/passwd' });
    expect(badCb).toMatchObject({ status: 400, body: { error: expect.stringContaining('only http and https') } });
    expect((await queue(gw!.url, 'flaky', {}, { 'x-mk-idempotency-key': 'a b' })).status).toBe(400);
    expect((await post(`${gw!.url}/function/default/flaky?async=true`, '{"a":')).status).toBe(400);
    const unknown = await runCli(['function', 'result', 'no-such-call'], { env: env(), timeoutMs: 60_000 });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('async call "no-such-call" not found');
    expect((await fetch(`${gw!.url}/function-results/no-such-call`)).status).toBe(404);
  });
});

describe('faults', () => {
  it('a gateway SIGKILLed with calls queued and running: every call completes exactly once', async () => {
    // Only the gateway processes of this test take jobs now.
    await gw!.stop();
    gw = undefined;
    await deploy('killed', { 'flaky.py': FLAKY }, { handler: 'flaky.handler', maxInstances: 3, idleSeconds: 5 });
    const first = await spawnGateway();
    const n = 20;
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await queue(first.url, 'killed', { dir: work, key: `kill${i}`, sleep: 0.5 }, { 'x-callback-url': callbackUrl });
      expect(r.status).toBe(202);
      ids.push(r.body.id as string);
    }
    await waitFor(() => fs.readdirSync(work).some((f) => f.startsWith('kill') && f.includes('.run.')) || undefined, 'a call runs', 60_000);
    await killHard(first.child);
    const unfinished = [];
    for (const id of ids) if (!['Succeeded', 'Failed'].includes((await resultOf(id))?.status ?? '')) unfinished.push(id);
    expect(unfinished.length).toBeGreaterThan(0);
    const second = await spawnGateway();
    for (const id of ids) expect(await finalResult(id, 90_000)).toMatchObject({ status: 'Succeeded' });
    // One callback per call, carrying its final result.
    await waitFor(() => ids.every((id) => received.has(id)) || undefined, 'every callback', 30_000);
    for (const id of ids) expect(received.get(id)).toHaveLength(1);
    // A call ran again only when the kill cut its run short: at most as many as could run at once.
    const reruns = Array.from({ length: n }, (_, i) => runsOf(`kill${i}`)).reduce((a, b) => a + b, 0) - n;
    expect(reruns).toBeLessThanOrEqual(3);
    for (let i = 0; i < n; i++) expect(runsOf(`kill${i}`)).toBeGreaterThanOrEqual(1);
    await killHard(second.child);
  });

  it('a NATS restart with calls queued loses none', async () => {
    await gw?.stop();
    gw = await startGateway({ bus: gwBus, port: 0, async: { backoffMs: [200, 400, 600] } });
    // A function at zero: the server goes while it scales up for the calls (pods being made,
    // instances getting ready, the gateway listing them), the path that stalled after a restart.
    await deploy('restarted', { 'flaky.py': FLAKY }, { handler: 'flaky.handler', maxInstances: 4, idleSeconds: 5 });
    expect(await instancesOf('restarted')).toHaveLength(0);
    const queued = await Promise.all(Array.from({ length: 10 }, (_, i) => queue(gw!.url, 'restarted', { dir: work, key: `restart${i}`, sleep: 1 })));
    for (const r of queued) expect(r.status).toBe(202);
    const ids = queued.map((r) => r.body.id as string);
    // At most 4 instances run 1 s calls: some are still queued when the server goes.
    const unfinished = [];
    for (const id of ids) if ((await resultOf(id))?.status !== 'Succeeded') unfinished.push(id);
    expect(unfinished.length).toBeGreaterThan(0);
    await cluster.server.restart();
    // Well within a minute: the gateway lists again at the reconnect and pulls again within a
    // second, so only the control plane's writes lost with the old connection (5 s) delay it.
    for (const id of ids) expect(await finalResult(id, 60_000)).toMatchObject({ status: 'Succeeded' });
    for (let i = 0; i < 10; i++) expect(runsOf(`restart${i}`)).toBeGreaterThanOrEqual(1);
  });
});
