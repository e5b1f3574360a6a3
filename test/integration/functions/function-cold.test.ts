/**
 * The cold path: a call to a function with no instance waits in the gateway while the controller
 * starts one; while such a call waits the gateway lists every 25 ms (coldRefreshMs), so the call
 * goes to the first instance as soon as it is Ready, whatever the gateway's usual listing period.
 * Shown with that period made two minutes, longer than the calls' timeout: the calls are answered
 * only because the cold period applies (a gateway whose cold period is as long answers 504).
 * Real nats-server, control plane and gateways, loaders on 127.0.0.n under the fake node. Prints
 * the cold call times and the Ready-to-answer lags it measured (figures, not assertions).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runControlPlane, type ControlPlane } from '../../../actors';
import { connectBus, ObjectStore, startInformer, type Bus, type Informer } from '../../../bus';
import { connectCore, type CoreBus } from '../../../bus/core-client';
import { openCodeBucket, pack, putCode } from '../../../bus/function-code';
import { startGateway, type Gateway } from '../../../embedded/gateway/gateway';
import { API, FUNCTION_LABEL, objectKey, type FunctionObject, type Pod } from '../../../messages';
import { startFakeFunctionNode, type FakeFunctionNode } from '../../helpers/fake-function-node';
import { startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';

jest.setTimeout(180_000);

/** The gateways' listing period when no call waits cold: longer than any call here may take. */
const LISTING_MS = 120_000;
/** The calls' timeout (the function's timeoutSeconds). */
const TIMEOUT_S = 20;

let server: NatsServer;
let cp: ControlPlane;
let bus: Bus;
let store: ObjectStore;
let node: FakeFunctionNode;
let gwBus: CoreBus;
let gw: Gateway;
/** A gateway whose cold period is its usual one (two minutes): the control. */
let slowGw: Gateway;
let informer: Informer;
let dir: string;
/** When this process first saw each function's first instance Ready (performance.now()), by function name. */
const readySeen = new Map<string, number>();

const ADD = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'examples', 'functions', 'add.py'), 'utf8');

beforeAll(async () => {
  server = await startNatsServer();
  cp = await runControlPlane({ bus: { servers: server.url, name: 'cp-fncold' } });
  bus = await connectBus({ servers: server.url, name: 'fncold-test' });
  store = await ObjectStore.open(bus, { create: false });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-fncold-'));
  node = await startFakeFunctionNode(store, 'fn-cold-node', 60);
  informer = await startInformer<Pod>(store, 'pods.>', (ev) => {
    const p = ev.object;
    const fn = p?.metadata.labels?.[FUNCTION_LABEL];
    if (!p || !fn || readySeen.has(fn)) return;
    if (p.status?.podIP && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) readySeen.set(fn, performance.now());
  });
  gwBus = await connectCore({ servers: server.url, name: 'fncold-gateway' });
  gw = await startGateway({ bus: gwBus, port: 0, refreshMs: LISTING_MS, idleRefreshMs: LISTING_MS });
  slowGw = await startGateway({ bus: gwBus, port: 0, refreshMs: LISTING_MS, idleRefreshMs: LISTING_MS, coldRefreshMs: LISTING_MS, async: false });
}, 300_000);

afterAll(async () => {
  await slowGw?.stop();
  await gw?.stop();
  await gwBus?.close();
  await informer?.stop();
  await node?.stop();
  await cp?.stop();
  await bus?.close();
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function deploy(name: string, timeoutSeconds = TIMEOUT_S): Promise<void> {
  const fdir = path.join(dir, name);
  fs.mkdirSync(fdir, { recursive: true });
  fs.writeFileSync(path.join(fdir, 'add.py'), ADD);
  const packed = pack(fdir);
  await putCode(await openCodeBucket(bus.nc), packed);
  await bus.nc.request(API.apply, new TextEncoder().encode(JSON.stringify({
    object: {
      apiVersion: 'mk.io/v1', kind: 'Function', metadata: { name, namespace: 'default' },
      spec: { runtime: 'python3', handler: 'add.handler', code: { digest: packed.digest, size: packed.size, files: packed.files }, idleSeconds: 600, timeoutSeconds },
    },
  })));
  await waitFor(async () => (await store.get<FunctionObject>(objectKey('functions', 'default', name)))?.object.status?.conditions, `${name} has a status`, 20_000);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

it('a cold call is answered once its first instance is Ready, though the gateway\'s usual listing period is longer than the call\'s timeout', async () => {
  const totals: number[] = [];
  const lags: number[] = [];
  // Each function is new, so each first call is cold.
  for (let i = 0; i < 5; i++) {
    const name = `cold-${i}`;
    await deploy(name);
    const sent = performance.now();
    const res = await fetch(`${gw.url}/function/default/${name}`, { method: 'POST', body: JSON.stringify({ a: i, b: 1 }) });
    const answered = performance.now();
    expect({ status: res.status, body: await res.json() as unknown }).toEqual({ status: 200, body: { sum: i + 1 } });
    const ready = readySeen.get(name);
    expect(ready).toBeDefined();
    totals.push(answered - sent);
    lags.push(answered - ready!);
  }
  process.stderr.write(`cold calls: total ms ${totals.map((x) => x.toFixed(0)).join(' ')} (median ${median(totals).toFixed(0)}); `
    + `Ready-to-answer ms ${lags.map((x) => x.toFixed(0)).join(' ')} (median ${median(lags).toFixed(0)})\n`);
});

it('without the cold period, the same call waits for a listing that comes after its timeout: 504, never sent', async () => {
  await deploy('cold-control', 8);
  const res = await fetch(`${slowGw.url}/function/default/cold-control`, { method: 'POST', body: JSON.stringify({ a: 1, b: 1 }) });
  const answered = performance.now();
  const body = await res.json() as { error?: string };
  expect({ status: res.status, error: body.error }).toEqual({ status: 504, error: 'function "cold-control" did not answer within 8s (no instance became free)' });
  // Its instance was Ready before the 504: only the gateway's view lagged (a slow start is not what failed the call).
  const ready = await waitFor(async () => readySeen.get('cold-control'), 'cold-control\'s instance Ready', 30_000);
  expect(ready).toBeLessThan(answered);
});
