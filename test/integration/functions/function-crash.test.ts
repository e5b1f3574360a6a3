/**
 * The function controller across control-plane crashes: the built `mk control-plane` (a process of
 * its own) is SIGKILLed while calls run through the gateway and while a burst scales a function
 * up; each new control plane re-derives the function's instances from the pods and the gateways'
 * reports. No call fails, no instance is made twice (the count never passes maxInstances), and
 * once the load is gone the function goes back to zero.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectCore, type CoreBus } from '../../../bus/core-client';
import { ObjectStore } from '../../../bus';
import { openCodeBucket, pack, putCode } from '../../../bus/function-code';
import { startGateway, type Gateway } from '../../../embedded/gateway/gateway';
import { FUNCTION_LABEL, objectKey, type FunctionObject, type Pod } from '../../../messages';
import { crashingControlPlane, type CrashingControlPlane } from '../../helpers/crashing-control-plane';
import { startFakeFunctionNode, type FakeFunctionNode } from '../../helpers/fake-function-node';
import { waitFor } from '../../helpers/nats-server';

jest.setTimeout(180_000);

let h: CrashingControlPlane;
let store: ObjectStore;
let node: FakeFunctionNode;
let gwBus: CoreBus;
let gw: Gateway;
let work: string;

const MAX = 4;
const instances = async (): Promise<Pod[]> => (await store.list<Pod>('pods.default.>')).items
  .map((i) => i.object).filter((p) => p.metadata.labels?.[FUNCTION_LABEL] === 'crashy' && !p.metadata.deletionTimestamp);

beforeAll(async () => {
  h = await crashingControlPlane('fn-crash-test');
  await h.start();
  store = await ObjectStore.open(h.bus, { create: false });
  node = await startFakeFunctionNode(store, 'fn-crash-node', 150);
  gwBus = await connectCore({ servers: h.server.url, name: 'fn-crash-gateway' });
  gw = await startGateway({ bus: gwBus, port: 0 });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-fn-crash-'));
}, 300_000);

afterAll(async () => {
  await gw?.stop();
  await gwBus?.close();
  await node?.stop();
  await h?.close();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

it('a control plane SIGKILLed mid-traffic and mid-scale: no call fails, no instance is made twice, and it goes back to zero', async () => {
  fs.writeFileSync(path.join(work, 'work.py'), 'import time\ndef handler(event):\n    time.sleep(0.05)\n    return event["i"] + 1\n');
  const packed = pack(path.join(work, 'work.py'));
  await putCode(await openCodeBucket(h.bus.nc), packed);
  await h.api('apply', {
    object: {
      apiVersion: 'mk.io/v1', kind: 'Function', metadata: { name: 'crashy', annotations: { 'mk.io/scale-down-window': '1' } },
      spec: { runtime: 'python3', handler: 'work.handler', code: { digest: packed.digest, size: packed.size, files: packed.files }, maxInstances: MAX, idleSeconds: 3 },
    },
  });
  let go = true;
  let n = 0;
  const failures: unknown[] = [];
  let most = 0;
  const worker = async () => {
    while (go) {
      const i = n++;
      const res = await fetch(`${gw.url}/function/default/crashy`, { method: 'POST', body: JSON.stringify({ i }) });
      const body = await res.json() as unknown;
      if (res.status !== 200 || body !== i + 1) failures.push({ status: res.status, body });
    }
  };
  const workers = Array.from({ length: 3 }, worker);
  for (let k = 0; k < 2; k++) {
    await waitFor(async () => (await instances()).some((p) => p.status?.podIP), `an instance serves before kill ${k}`, 30_000);
    await h.kill();
    most = Math.max(most, (await instances()).length);
    await h.start();
  }
  await waitFor(async () => n > 100, 'calls after the restarts', 60_000);
  go = false;
  await Promise.all(workers);
  expect(failures).toEqual([]);
  most = Math.max(most, (await instances()).length);
  expect(most).toBeLessThanOrEqual(MAX);
  await waitFor(async () => (await instances()).length === 0, 'back to zero once idle', 30_000);
  // The status follows the pods' deletion at the next reconcile.
  const st = await waitFor(async () => {
    const s = (await store.get<FunctionObject>(objectKey('functions', 'default', 'crashy')))?.object.status;
    return s?.instances === 0 ? s : undefined;
  }, 'the status counts no instance', 10_000);
  expect(st.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'ScaledToZero' });
});
