/**
 * Workflow runs end to end without containerd: a real nats-server, the built `mk control-plane`
 * as a process of its own (SIGKILLed in the middle of runs), the real gateway in this process and
 * the fake node running the real python loader for each function instance.
 *
 * Shown: MiniK8s's encryption workflow giving the answer its functions give by hand, on both
 * sides of its IF; a Parallel state and a Map over 20 items; a nested workflow as a child run; a
 * Retry that succeeds on the third attempt; a Catch routing to a Fail state; a Task naming a missing function; a cancel; a run
 * whose control plane is SIGKILLed in the middle of a Task, which resumes and completes every task
 * exactly once; a Wait across a SIGKILL; a burst of runs across a SIGKILL; and runs in a Task and
 * a Wait across a nats-server SIGKILL and restart.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { load } from 'js-yaml';
import { connectCore, type CoreBus } from '../../../bus/core-client';
import { pack } from '../../../bus/code-archive';
import { openCodeBucket, putCode } from '../../../bus/function-code';
import { jetstream } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { ObjectStore } from '../../../bus';
import { WORKFLOW_PAYLOAD_BUCKET } from '../../../messages/workflow';
import { startGateway, type Gateway } from '../../../embedded/gateway/gateway';
import {
  compileWorkflowText, isFinalPhase, type WorkflowSpec,
} from '../../../messages/workflow';
import { objectKey, type FunctionObject, type WorkflowRunObject } from '../../../messages';
import { crashingControlPlane, type CrashingControlPlane } from '../../helpers/crashing-control-plane';
import { startFakeFunctionNode, type FakeFunctionNode } from '../../helpers/fake-function-node';
import { waitFor } from '../../helpers/nats-server';

jest.setTimeout(300_000);

const EXAMPLES = path.resolve(__dirname, '..', '..', '..', 'examples', 'workflows');

let cp: CrashingControlPlane;
let store: ObjectStore;
let node: FakeFunctionNode;
let gwBus: CoreBus;
let gw: Gateway | undefined;
let work: string;

/** Counts its calls per key in files under event.dir, fails the first `fail` of them, sleeps `sleep` s, and answers. */
const FLAKY = `import os, time
class Flake(Exception):
    pass
def handler(event):
    p = os.path.join(event["dir"], event["key"])
    n = (int(open(p).read()) if os.path.exists(p) else 0) + 1
    open(p, "w").write(str(n))
    time.sleep(event.get("sleep", 0))
    if n <= event.get("fail", 0):
        raise Flake("call %d fails" % n)
    open(p + ".done." + str(n), "w").close()
    return dict(event, calls=n)
`;
const DOUBLE = 'def handler(event):\n    return event * 2\n';

const apply = (object: unknown): Promise<unknown> => cp.api('apply', { object });

/** Uploads `dir` (or one file) and applies a python Function. */
async function deploy(namespace: string, name: string, source: string, handler: string): Promise<void> {
  const packed = pack(source);
  await putCode(await openCodeBucket(cp.bus.nc), packed);
  await apply({
    apiVersion: 'mk.io/v1', kind: 'Function', metadata: { name, namespace, annotations: { 'mk.io/scale-down-window': '1' } },
    spec: { runtime: 'python3', handler, code: { digest: packed.digest, size: packed.size, files: packed.files }, maxInstances: 4, idleSeconds: 30 },
  });
  await waitFor(async () => (await store.get<FunctionObject>(objectKey('functions', namespace, name)))?.object.status?.conditions, `${name} has a status`, 30_000);
}

/** Writes `text` as a one-file function and deploys it in default. */
async function deployText(name: string, file: string, text: string): Promise<void> {
  const dir = path.join(work, 'code', name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, file), text);
  await deploy('default', name, dir, `${path.basename(file, '.py')}.handler`);
}

const workflow = (namespace: string, name: string, spec: WorkflowSpec): Promise<unknown> =>
  apply({ apiVersion: 'mk.io/v1', kind: 'Workflow', metadata: { name, namespace }, spec });

let counter = 0;
/** Starts a run of `wf` on `input`; resolves with its name. */
async function start(namespace: string, wf: string, input: unknown): Promise<string> {
  const name = `${wf}-${++counter}`;
  await apply({ apiVersion: 'mk.io/v1', kind: 'WorkflowRun', metadata: { name, namespace }, spec: { workflowRef: { name: wf }, input } });
  return name;
}
const runOf = async (namespace: string, name: string): Promise<WorkflowRunObject | undefined> =>
  (await store.get<WorkflowRunObject>(objectKey('workflowruns', namespace, name)))?.object;
/** Waits until the run is final; resolves with it. */
const finished = (namespace: string, name: string, ms = 90_000): Promise<WorkflowRunObject> => waitFor(async () => {
  const r = await runOf(namespace, name);
  return r && isFinalPhase(r.status?.phase) ? r : undefined;
}, `run ${name} finished`, ms);
const doneFiles = (key: string): string[] => fs.readdirSync(work).filter((f) => f.startsWith(`${key}.done.`));
const callsOf = (key: string): number => (fs.existsSync(path.join(work, key)) ? Number(fs.readFileSync(path.join(work, key), 'utf8')) : 0);

beforeAll(async () => {
  cp = await crashingControlPlane('wf-run');
  await cp.start();
  store = await ObjectStore.open(cp.bus, { create: false });
  work = fs.mkdtempSync(path.join(cp.dataDir, 'work-'));
  node = await startFakeFunctionNode(store, 'wf-node', 40);
  gwBus = await connectCore({ servers: cp.server.url, name: 'wf-gateway' });
  gw = await startGateway({ bus: gwBus, port: 0 });
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'encryption' } });
  for (const f of ['move-right', 'convert-num', 'add', 'subtract', 'convert-char']) {
    const m = load(fs.readFileSync(path.join(EXAMPLES, 'encryption', `${f}.yaml`), 'utf8')) as { spec: { handler: string; code: { path: string } } };
    await deploy('encryption', f, path.join(EXAMPLES, 'encryption', m.spec.code.path), m.spec.handler);
  }
  await deployText('flaky', 'flaky.py', FLAKY);
  await deployText('double', 'double.py', DOUBLE);
}, 300_000);

afterAll(async () => {
  await gw?.stop();
  await gwBus?.close();
  await node?.stop();
  await cp?.close();
});

describe('MiniK8s encryption workflow', () => {
  it('gives the answer of its functions called by hand, on both sides of the IF', async () => {
    const spec = compileWorkflowText(fs.readFileSync(path.join(EXAMPLES, 'encryption.txt'), 'utf8'));
    await workflow('encryption', 'encryption', spec);
    // By hand (test/unit/examples-encryption.test.ts): "hello" goes through add, "abc" through subtract.
    const [high, low] = [await start('encryption', 'encryption', 'hello'), await start('encryption', 'encryption', 'abc')];
    const [h, l] = [await finished('encryption', high), await finished('encryption', low)];
    expect(h.status).toMatchObject({ phase: 'Succeeded', output: 'ifmxC' });
    expect(l.status).toMatchObject({ phase: 'Succeeded', output: 'bY2' });
    expect(h.status?.history?.some((r) => r.type === 'TaskScheduled' && r.detail.includes('function add'))).toBe(true);
    expect(l.status?.history?.some((r) => r.type === 'TaskScheduled' && r.detail.includes('function subtract'))).toBe(true);
    expect(h.status?.specHash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('states', () => {
  it('runs a Parallel state and a Map over 20 items', async () => {
    await workflow('default', 'fan', {
      startAt: 'Both',
      states: {
        Both: {
          type: 'Parallel', next: 'Each',
          branches: [
            { startAt: 'A', states: { A: { type: 'Task', function: 'double', inputPath: '$.n', end: true } } },
            { startAt: 'B', states: { B: { type: 'Pass', result: 'b', end: true } } },
          ],
          resultPath: '$.both',
        },
        Each: { type: 'Map', itemsPath: '$.items', maxConcurrency: 5, itemProcessor: { startAt: 'D', states: { D: { type: 'Task', function: 'double', end: true } } }, resultPath: '$.doubled', end: true },
      },
    });
    const items = Array.from({ length: 20 }, (_, i) => i);
    const r = await finished('default', await start('default', 'fan', { n: 21, items }));
    expect(r.status?.phase).toBe('Succeeded');
    expect(r.status?.output).toEqual({ n: 21, items, both: [42, 'b'], doubled: items.map((i) => i * 2) });
  });

  it('runs a nested workflow as a child run and takes its output', async () => {
    await workflow('default', 'twice', { startAt: 'D', states: { D: { type: 'Task', function: 'double', end: true } } });
    await workflow('default', 'outer', {
      startAt: 'Child',
      states: { Child: { type: 'Task', workflow: 'twice', inputPath: '$.n', resultPath: '$.doubled', next: 'Done' }, Done: { type: 'Succeed' } },
    });
    const name = await start('default', 'outer', { n: 5 });
    const r = await finished('default', name);
    expect(r.status).toMatchObject({ phase: 'Succeeded', output: { n: 5, doubled: 10 } });
    const children = (await store.list<WorkflowRunObject>('workflowruns.default.>')).items.map((i) => i.object)
      .filter((c) => c.metadata.ownerReferences?.[0]?.uid === r.metadata.uid);
    expect(children).toHaveLength(1);
    expect(children[0].spec).toEqual({ workflowRef: { name: 'twice' }, input: 5 });
    expect(children[0].status?.phase).toBe('Succeeded');
  });

  it('retries a failing Task and succeeds on its third attempt', async () => {
    await workflow('default', 'retrying', {
      startAt: 'Call',
      states: { Call: { type: 'Task', function: 'flaky', retry: [{ errorEquals: ['Flake'], intervalSeconds: 1, maxAttempts: 3, backoffRate: 1 }], end: true } },
    });
    const r = await finished('default', await start('default', 'retrying', { dir: work, key: 'retry3', fail: 2 }));
    expect(r.status).toMatchObject({ phase: 'Succeeded', output: { key: 'retry3', calls: 3 } });
    expect(callsOf('retry3')).toBe(3);
    expect(r.status?.history?.filter((h) => h.type === 'TaskFailed').map((h) => h.detail)).toEqual([
      expect.stringMatching(/^attempt 1 Flake: Flake: call 1 fails/), expect.stringMatching(/^attempt 2 Flake: Flake: call 2 fails/),
    ]);
  });

  it('routes an error a Catch takes to a Fail state', async () => {
    await workflow('default', 'catching', {
      startAt: 'Call',
      states: {
        Call: { type: 'Task', function: 'flaky', catch: [{ errorEquals: ['States.ALL'], next: 'Broken', resultPath: '$.error' }], end: true },
        Broken: { type: 'Fail', error: 'Broken', cause: 'flaky failed' },
      },
    });
    const r = await finished('default', await start('default', 'catching', { dir: work, key: 'caught', fail: 5 }));
    expect(r.status).toMatchObject({ phase: 'Failed', error: { error: 'Broken', cause: 'flaky failed' } });
    expect(callsOf('caught')).toBe(1);
  });

  it('fails a run whose Task names a missing function, with that message', async () => {
    await workflow('default', 'missing', { startAt: 'Call', states: { Call: { type: 'Task', function: 'nowhere', end: true } } });
    const r = await finished('default', await start('default', 'missing', 1));
    expect(r.status?.phase).toBe('Failed');
    expect(r.status?.error?.error).toBe('States.TaskFailed');
    expect(r.status?.error?.cause).toMatch(/nowhere/);
  });

  it('fails a run of a missing Workflow, saying which', async () => {
    const r = await finished('default', await start('default', 'no-such-workflow', 1));
    expect(r.status?.phase).toBe('Failed');
    expect(r.status?.error?.cause).toBe('workflow "no-such-workflow" not found in namespace "default"');
  });

  it('cancels a waiting run', async () => {
    await workflow('default', 'waiting', { startAt: 'Nap', states: { Nap: { type: 'Wait', seconds: 600, end: true } } });
    const name = await start('default', 'waiting', {});
    await waitFor(async () => ((await runOf('default', name))?.status?.currentStates?.[0] === 'Nap#1' ? true : undefined), 'the run waits', 30_000);
    const cur = (await runOf('default', name))!;
    await apply({ ...cur, spec: { ...cur.spec, cancel: { reason: 'no longer needed' } } });
    const r = await finished('default', name, 30_000);
    expect(r.status?.phase).toBe('Cancelled');
    expect(r.status?.history?.at(-1)).toMatchObject({ type: 'RunCancelled', detail: 'no longer needed' });
  });
});

describe('large payloads', () => {
  it('keeps an output over the inline limit in the object store, and removes it with its run', async () => {
    await workflow('default', 'widen', {
      startAt: 'Each',
      states: { Each: { type: 'Map', itemProcessor: { startAt: 'Triple', states: { Triple: { type: 'Pass', parameters: { 'a.$': '$', 'b.$': '$', 'c.$': '$' }, end: true } } }, end: true } },
    });
    const items = Array.from({ length: 400 }, (_, i) => String(i).padEnd(1000, 'x'));
    const name = await start('default', 'widen', items);
    const r = await finished('default', name);
    expect(r.status?.phase).toBe('Succeeded');
    expect(r.status?.output).toBeUndefined();
    const uid = r.metadata.uid!;
    expect(r.status?.outputRef).toEqual({ bucket: WORKFLOW_PAYLOAD_BUCKET, key: `${uid}/output` });
    const bucket = await new Objm(jetstream(cp.bus.nc)).open(WORKFLOW_PAYLOAD_BUCKET);
    const output = JSON.parse(new TextDecoder().decode((await bucket.getBlob(`${uid}/output`))!)) as { a: string }[];
    expect(output).toHaveLength(400);
    expect(output[399]).toEqual({ a: items[399], b: items[399], c: items[399] });
    // The journal held references for the events over the limit (the Map's exit, the run's end).
    expect((await bucket.list()).filter((o) => o.name.startsWith(`${uid}/event-`)).length).toBeGreaterThanOrEqual(2);
    await cp.api('delete', { kind: 'workflowruns', namespace: 'default', name });
    await waitFor(async () => ((await bucket.list()).some((o) => o.name.startsWith(`${uid}/`)) ? undefined : true), 'the run\'s payloads removed', 30_000);
  });
});

describe('bad input', () => {
  const caught = async (p: Promise<unknown>): Promise<Error> => p.then(() => { throw new Error('accepted'); }, (e: Error) => e);
  it.each([
    ['a state naming a missing next state', { startAt: 'A', states: { A: { type: 'Pass', next: 'Nowhere' } } }, /spec.states.A.next.*Nowhere/],
    ['a cycle with no exit and no Wait', {
      startAt: 'A', states: { A: { type: 'Pass', next: 'B' }, B: { type: 'Pass', next: 'A' } },
    }, /loop|cycle/i],
    ['a JSONPath that does not parse', { startAt: 'A', states: { A: { type: 'Pass', inputPath: '$.[', end: true } } }, /spec.states.A.inputPath/],
  ])('refuses %s with a clear error and stores nothing', async (what, spec, message) => {
    const name = `bad-${what.split(' ').slice(1, 3).join('-').replace(/[^a-z-]/g, '')}`;
    const err = await caught(workflow('default', name, spec as WorkflowSpec));
    expect(err.message).toMatch(message);
    expect(await store.get(objectKey('workflows', 'default', name))).toBeNull();
  });

  it('refuses a change to a run\'s spec other than cancel', async () => {
    await workflow('default', 'quick', { startAt: 'A', states: { A: { type: 'Pass', end: true } } });
    const name = await start('default', 'quick', 1);
    const cur = (await finished('default', name))!;
    const err = await caught(apply({ ...cur, spec: { ...cur.spec, input: 2 } }));
    expect(err.message).toMatch(/spec: Forbidden: a run's spec cannot change once it exists/);
    expect((await runOf('default', name))?.spec.input).toBe(1);
  });
});

describe('durability', () => {
  it('a control plane SIGKILLed in the middle of a Task: the run resumes and every task completes exactly once', async () => {
    await workflow('default', 'chain', {
      startAt: 'One',
      states: {
        One: { type: 'Task', function: 'flaky', parameters: { 'dir.$': '$.dir', key: 'chain-one' }, resultPath: null, next: 'Two' },
        Two: { type: 'Task', function: 'flaky', parameters: { 'dir.$': '$.dir', key: 'chain-two', sleep: 3 }, resultPath: null, next: 'Three' },
        Three: { type: 'Task', function: 'flaky', parameters: { 'dir.$': '$.dir', key: 'chain-three' }, end: true },
      },
    });
    const name = await start('default', 'chain', { dir: work });
    // Two is running (its call sleeps 3 s): kill the control plane now.
    await waitFor(async () => (callsOf('chain-two') === 1 ? true : undefined), 'task Two called', 60_000);
    await cp.kill();
    await cp.start();
    const r = await finished('default', name);
    expect(r.status).toMatchObject({ phase: 'Succeeded', output: { key: 'chain-three', calls: 1 } });
    for (const key of ['chain-one', 'chain-two', 'chain-three']) {
      expect(callsOf(key)).toBe(1);
      expect(doneFiles(key)).toHaveLength(1);
    }
    expect(r.status?.history?.filter((h) => h.type === 'TaskSucceeded')).toHaveLength(3);
  });

  it('a Wait across a control-plane SIGKILL fires once, at its time', async () => {
    await workflow('default', 'pause', { startAt: 'Nap', states: { Nap: { type: 'Wait', seconds: 4, next: 'Done' }, Done: { type: 'Pass', result: 'woke', end: true } } });
    const name = await start('default', 'pause', {});
    const waiting = await waitFor(async () => {
      const r = await runOf('default', name);
      return r?.status?.currentStates?.[0] === 'Nap#1' ? r : undefined;
    }, 'the run waits', 30_000);
    await cp.kill();
    await cp.start();
    const r = await finished('default', name, 60_000);
    expect(r.status).toMatchObject({ phase: 'Succeeded', output: 'woke' });
    const started = waiting.status!.history!.find((h) => h.type === 'TimerStarted')!;
    const fired = r.status!.history!.filter((h) => h.type === 'TimerFired');
    expect(fired).toHaveLength(1);
    expect(Date.parse(fired[0].time)).toBeGreaterThanOrEqual(Date.parse(started.detail.replace(/^wait timer until /, '')));
  });

  it('a burst of 20 runs across a SIGKILL all finish, each once', async () => {
    const names = await Promise.all(Array.from({ length: 20 }, (_, i) => start('default', 'fan', { n: i, items: [i, i + 1] })));
    await cp.kill();
    await cp.start();
    const runs = await Promise.all(names.map((n) => finished('default', n, 120_000)));
    runs.forEach((r, i) => {
      expect(r.status?.phase).toBe('Succeeded');
      expect(r.status?.output).toEqual({ n: i, items: [i, i + 1], both: [i * 2, 'b'], doubled: [i * 2, (i + 1) * 2] });
    });
  });

  it('runs in a Task and in a Wait go on across a nats-server SIGKILL and restart, each task once', async () => {
    fs.mkdirSync(path.join(work, 'nats'));
    const waiting = await start('default', 'pause', {});
    const chain = await start('default', 'chain', { dir: path.join(work, 'nats') });
    await waitFor(async () => (fs.existsSync(path.join(work, 'nats', 'chain-two')) ? true : undefined), 'task Two called', 60_000);
    cp.server.kill();
    await cp.server.restart();
    const [w, c] = [await finished('default', waiting, 120_000), await finished('default', chain, 120_000)];
    expect(w.status).toMatchObject({ phase: 'Succeeded', output: 'woke' });
    expect({ phase: c.status?.phase, error: c.status?.error, history: c.status?.history?.slice(-6).map((h) => `${h.type} ${h.path} ${h.detail}`) })
      .toMatchObject({ phase: 'Succeeded', error: undefined });
    expect(c.status?.output).toMatchObject({ key: 'chain-three', calls: 1 });
    for (const key of ['chain-one', 'chain-two', 'chain-three']) expect({ key, calls: Number(fs.readFileSync(path.join(work, 'nats', key), 'utf8')) }).toEqual({ key, calls: 1 });
  });
});
