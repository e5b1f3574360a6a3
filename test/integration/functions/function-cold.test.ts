/**
 * The cold path: a call to a function with no instance waits in the gateway while the controller
 * starts one; the gateway lists every 25 ms while such a call waits, so the call goes to the
 * instance within a few tens of ms of it being Ready, not up to a listing period (250 ms) later.
 * Real nats-server, control plane and gateway, loaders on 127.0.0.n under the fake node. Prints
 * the cold call times and the Ready-to-answer lags it measured.
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

let server: NatsServer;
let cp: ControlPlane;
let bus: Bus;
let store: ObjectStore;
let node: FakeFunctionNode;
let gwBus: CoreBus;
let gw: Gateway;
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
  gw = await startGateway({ bus: gwBus, port: 0 });
}, 300_000);

afterAll(async () => {
  await gw?.stop();
  await gwBus?.close();
  await informer?.stop();
  await node?.stop();
  await cp?.stop();
  await bus?.close();
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function deploy(name: string): Promise<void> {
  const fdir = path.join(dir, name);
  fs.mkdirSync(fdir, { recursive: true });
  fs.writeFileSync(path.join(fdir, 'add.py'), ADD);
  const packed = pack(fdir);
  await putCode(await openCodeBucket(bus.nc), packed);
  await bus.nc.request(API.apply, new TextEncoder().encode(JSON.stringify({
    object: {
      apiVersion: 'mk.io/v1', kind: 'Function', metadata: { name, namespace: 'default' },
      spec: { runtime: 'python3', handler: 'add.handler', code: { digest: packed.digest, size: packed.size, files: packed.files }, idleSeconds: 600 },
    },
  })));
  await waitFor(async () => (await store.get<FunctionObject>(objectKey('functions', 'default', name)))?.object.status?.conditions, `${name} has a status`, 20_000);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

it('a cold call is answered within tens of ms of its first instance being Ready', async () => {
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
  // 25 ms listings plus a listing's and a call's own time; a 250 ms period averages 125 ms more.
  expect(median(lags)).toBeLessThan(100);
});
