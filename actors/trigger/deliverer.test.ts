import type { KV } from '@nats-io/kv';
import type { Bus, ObjectStore } from '../../bus';
import { AlreadyExistsError, type KubeObject, type Trigger, type WorkflowRunObject } from '../../messages';
import type { KindModule } from '../kind-module';
import type { TaskAnswer, TaskCall, TaskInvoker } from '../workflow/tasks';
import { startDeliverer, type Deliverer } from './deliverer';

const enc = new TextEncoder();

/** A KV bucket in memory, with the calls the deliverer makes. */
function memoryKv(): KV & { data: Map<string, string> } {
  const data = new Map<string, string>();
  const entry = (k: string) => (data.has(k) ? { key: k, operation: 'PUT', value: enc.encode(data.get(k)) } : null);
  return {
    data,
    get: async (k: string) => entry(k),
    put: async (k: string, v: Uint8Array) => { data.set(k, new TextDecoder().decode(v)); return 1; },
    create: async (k: string, v: Uint8Array) => {
      if (data.has(k)) throw new Error('wrong last sequence');
      data.set(k, new TextDecoder().decode(v));
      return 1;
    },
    delete: async (k: string) => { data.delete(k); },
    keys: async (filter: string) => {
      const prefix = filter.slice(0, -1);
      return (async function* () { for (const k of [...data.keys()]) if (k.startsWith(prefix)) yield k; })();
    },
  } as unknown as KV & { data: Map<string, string> };
}

/** An invoker whose calls the test answers. */
function manualInvoker(): TaskInvoker & { calls: TaskCall[]; answer(callId: string, a: TaskAnswer): void; cancelled: string[] } {
  const waiting = new Map<string, (a: TaskAnswer) => void>();
  const calls: TaskCall[] = [];
  const cancelled: string[] = [];
  return {
    calls, cancelled,
    invoke(call, answer) { calls.push(call); waiting.set(call.callId ?? '', answer); },
    cancel(id) { cancelled.push(id); },
    async stop() { /* nothing held */ },
    answer(callId, a) { const f = waiting.get(callId); waiting.delete(callId); f?.(a); },
  };
}

/** The store's WorkflowRuns in memory. */
function memoryStore(): ObjectStore & { runs: Map<string, WorkflowRunObject> } {
  const runs = new Map<string, WorkflowRunObject>();
  return {
    runs,
    create: async (key: string, o: KubeObject) => {
      if (runs.has(key)) throw new AlreadyExistsError(`${key} exists`);
      runs.set(key, structuredClone(o) as unknown as WorkflowRunObject);
      return 1;
    },
    get: async (key: string) => (runs.has(key) ? { key, object: structuredClone(runs.get(key)), revision: 1 } : null),
    mutate: async (key: string, fn: (o: WorkflowRunObject) => WorkflowRunObject) => {
      const cur = runs.get(key);
      if (cur) runs.set(key, fn(structuredClone(cur)));
      return null;
    },
  } as unknown as ObjectStore & { runs: Map<string, WorkflowRunObject> };
}

const trig = (spec: Partial<Trigger['spec']>, target: Trigger['spec']['target'] = { function: 'add', input: { fixed: true } }): Trigger => ({
  apiVersion: 'mk.io/v1', kind: 'Trigger', metadata: { name: 'tick', namespace: 'default', uid: 'u1' },
  spec: { target, source: { subject: { subject: 'ticks' } }, maxAttempts: 2, backoffSeconds: 1, ...spec },
});

let kv: ReturnType<typeof memoryKv>;
let invoker: ReturnType<typeof manualInvoker>;
let store: ReturnType<typeof memoryStore>;
let published: { subject: string; data: unknown; msgID?: string }[];
let events: string[];
let woken: string[];
let d: Deliverer;
const KEY = 'triggers.default.tick';

const deliverer = (): Deliverer => startDeliverer({
  store, firings: kv, invoker, runs: {} as KindModule,
  bus: {
    js: { publish: async (subject: string, data: Uint8Array, o?: { msgID?: string }) => { published.push({ subject, data: JSON.parse(new TextDecoder().decode(data)), msgID: o?.msgID }); } },
    nc: { publish: (subject: string, data: Uint8Array) => { published.push({ subject, data: JSON.parse(new TextDecoder().decode(data)) }); }, flush: async () => undefined },
  } as unknown as Bus,
  recordEvent: (_o, type, reason, message) => { events.push(`${type} ${reason} ${message}`); },
  wake: (k) => { woken.push(k); },
  now: () => Date.parse('2026-01-01T10:00:00Z'),
});

beforeEach(() => {
  jest.useFakeTimers({ now: Date.parse('2026-01-01T10:00:00Z') });
  kv = memoryKv();
  invoker = manualInvoker();
  store = memoryStore();
  published = [];
  events = [];
  woken = [];
  d = deliverer();
});
afterEach(() => {
  d.stop();
  jest.useRealTimers();
});

describe('the deliverer', () => {
  it('fires a function once under the firing id, with the target input, and counts its success', async () => {
    const t = trig({});
    expect(await d.fire(KEY, t, 'tick-m1', { n: 1 })).toBe('fired');
    expect(await d.fire(KEY, t, 'tick-m1', { n: 1 })).toBe('exists');
    expect(invoker.calls).toEqual([{ namespace: 'default', function: 'add', invocationId: 'u1/tick-m1', callId: 'tick-m1', input: { n: 1, fixed: true } }]);
    expect(d.active('u1')).toBe(1);
    invoker.answer('tick-m1', { ok: true, output: 2 });
    expect(woken).toEqual([KEY]);
    await d.step(KEY, t);
    expect(d.active('u1')).toBe(0);
    expect(d.takeDelta('u1')).toMatchObject({ firings: 1, succeeded: 1, failed: 0, deadLettered: 0 });
    expect(JSON.parse(kv.data.get('done.u1.tick-m1')!)).toMatchObject({ phase: 'Succeeded' });
    expect(kv.data.has('open.u1.tick-m1')).toBe(false);
    // Ended, it is still known: handed on again, it is not fired again.
    expect(await d.fire(KEY, t, 'tick-m1', { n: 1 })).toBe('exists');
    expect(events).toEqual(['Normal Fired Fired tick-m1: function add']);
  });

  it('retries a failed try under a new id after the backoff, then publishes the dead letter', async () => {
    const t = trig({});
    await d.fire(KEY, t, 'tick-m2', 'x');
    invoker.answer('tick-m2', { ok: false, error: 'Boom', cause: 'first' });
    await d.step(KEY, t);
    expect(JSON.parse(kv.data.get('open.u1.tick-m2')!)).toMatchObject({ phase: 'Waiting', attempt: 1 });
    await jest.advanceTimersByTimeAsync(1000);
    await d.step(KEY, t);
    expect(invoker.calls.map((c) => c.callId)).toEqual(['tick-m2', 'tick-m2-2']);
    invoker.answer('tick-m2-2', { ok: false, error: 'Boom', cause: 'second' });
    await d.step(KEY, t);
    expect(published).toEqual([{
      subject: 'mk.trigger.dlq.default.tick', msgID: 'u1-tick-m2',
      data: { trigger: 'default/tick', firing: 'tick-m2', input: { event: 'x', fixed: true }, error: 'Boom: second', attempts: 2, target: 'function/add', time: '2026-01-01T10:00:00.000Z' },
    }]);
    expect(d.takeDelta('u1')).toMatchObject({ firings: 1, failed: 2, deadLettered: 1, succeeded: 0 });
    expect(events.filter((e) => e.includes('FailedDelivery'))).toHaveLength(2);
    expect(events.at(-1)).toMatch(/Warning DeadLettered Firing tick-m2 failed 2 time\(s\); published to mk.trigger.dlq.default.tick/);
  });

  it('a restarted deliverer resumes open firings under the same ids, and its retries wait out their backoff', async () => {
    const t = trig({});
    await d.fire(KEY, t, 'tick-m3', 1);
    await d.fire(KEY, t, 'tick-m4', 2);
    invoker.answer('tick-m4', { ok: false, error: 'E', cause: 'c' });
    await d.step(KEY, t);
    d.stop();
    const before = invoker.calls.length;
    d = deliverer();
    await d.load(KEY, t);
    expect(invoker.calls.slice(before).map((c) => c.callId)).toEqual(['tick-m3']);
    await jest.advanceTimersByTimeAsync(1000);
    await d.step(KEY, t);
    expect(invoker.calls.slice(before).map((c) => c.callId)).toEqual(['tick-m3', 'tick-m4-2']);
    expect(await d.fire(KEY, t, 'tick-m3', 1)).toBe('exists');
  });

  it('a workflow target gets a run named by the try, owned by the trigger; a failed run is tried again as a new run', async () => {
    const t = trig({}, { workflow: 'wf' });
    await d.fire(KEY, t, 'tick-m5', { a: 1 });
    const run = store.runs.get('workflowruns.default.tick-m5')!;
    expect(run.metadata).toMatchObject({ name: 'tick-m5', labels: { 'mk.io/trigger': 'tick' }, ownerReferences: [{ kind: 'Trigger', uid: 'u1', controller: true }] });
    expect(run.spec).toEqual({ workflowRef: { name: 'wf' }, input: { a: 1 } });
    await d.step(KEY, t);
    expect(d.active('u1')).toBe(1);
    store.runs.set('workflowruns.default.tick-m5', { ...run, status: { phase: 'Failed', error: { error: 'Nope', cause: 'no' } } } as WorkflowRunObject);
    await d.step(KEY, t);
    await jest.advanceTimersByTimeAsync(1000);
    await d.step(KEY, t);
    expect(store.runs.has('workflowruns.default.tick-m5-2')).toBe(true);
    store.runs.set('workflowruns.default.tick-m5-2', { ...store.runs.get('workflowruns.default.tick-m5-2')!, status: { phase: 'Succeeded', output: 1 } } as WorkflowRunObject);
    await d.step(KEY, t);
    expect(d.takeDelta('u1')).toMatchObject({ firings: 1, failed: 1, succeeded: 1 });
  });

  it('Forbid skips while one runs and remembers the skip; Replace cancels the running run', async () => {
    const forbid = trig({ concurrencyPolicy: 'Forbid' }, { workflow: 'wf' });
    await d.fire(KEY, forbid, 'tick-m6', 1);
    expect(await d.fire(KEY, forbid, 'tick-m7', 2)).toBe('skipped');
    expect(await d.fire(KEY, forbid, 'tick-m7', 2)).toBe('exists');
    expect(d.takeDelta('u1')).toMatchObject({ firings: 1, skipped: 1 });
    const replace = trig({ concurrencyPolicy: 'Replace' }, { workflow: 'wf' });
    expect(await d.fire(KEY, replace, 'tick-m8', 3)).toBe('fired');
    expect(store.runs.get('workflowruns.default.tick-m6')?.spec.cancel).toEqual({ reason: 'replaced by firing tick-m8' });
    expect(JSON.parse(kv.data.get('done.u1.tick-m6')!)).toMatchObject({ phase: 'Replaced' });
    expect(d.active('u1')).toBe(1);
  });
});
