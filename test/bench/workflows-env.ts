/**
 * What the workflows benchmark stands on, with no containerd and no root: a nats-server on
 * loopback, the built `mk control-plane` as a process of its own (SIGKILLed and started again by
 * the resume part), the real gateway in this process, and a fake node that runs the real python
 * loader on a loopback address for each function instance (test/helpers/fake-function-node.ts).
 * Beside them: the hand-written loops the engine is measured against (the same functions through
 * the same gateway, async and sync) and a watch of the runs, so a run's end is seen as it is
 * written, not at the next poll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KvWatchInclude } from '@nats-io/kv';
import { connectBus, ObjectStore, request, type Bus } from '../../bus';
import { connectCore, type CoreBus } from '../../bus/core-client';
import { openAsyncQueue, type AsyncQueue } from '../../bus/function-async';
import { startGateway, type Gateway } from '../../embedded/gateway/gateway';
import {
  API, asyncInvokeSubject, functionInvokeSubject, objectKey,
  type AsyncResult, type AsyncSubmit, type InvokeReply, type KubeObject, type WorkflowRunObject,
} from '../../messages';
import { isFinalPhase, type JsonValue, type WorkflowSpec } from '../../messages/workflow';
import { startFakeFunctionNode, type FakeFunctionNode } from '../helpers/fake-function-node';
import { startNatsServer, type NatsServer } from '../helpers/nats-server';
import { until } from '../helpers/wait';
import { BIN } from './control-plane-env';
import { deployFunction, readyInstances } from './functions-env';

/** The namespace every object of the benchmark lives in. */
export const BENCH_NAMESPACE = 'default';
/** The last octet of the fake node's first loader address (127.0.0.<n>), away from the tests' own. */
const FIRST_LOADER_HOST = 200;
/** How long one call of a loop may take before the loop fails (ms). */
const CALL_TIMEOUT_MS = 30_000;

/** A run seen by the watch: the object and when (performance.now()) this process got it. */
export interface SeenRun { run: WorkflowRunObject; seenAt: number }

/** When the control plane was spawned and when it first answered mk.api.ping. */
export interface ControlPlaneStart {
  /** performance.now() at the spawn. */
  spawnedAt: number;
  /** performance.now() and Date.now() at the first answer. */
  pingAt: number;
  pingWall: number;
}

/** The benchmark's world; see the module comment. */
export interface WorkflowsEnv {
  /** A directory of the benchmark's own (removed by close()); functions on the fake node can write in it. */
  dir: string;
  bus: Bus;
  store: ObjectStore;
  /** Starts a control plane; resolves at its first answer to mk.api.ping (polled every 10 ms). */
  startControlPlane(): Promise<ControlPlaneStart>;
  /** SIGKILLs the control plane by its pid and waits until it is gone. */
  killControlPlane(): Promise<void>;
  /** Uploads a one-file python handler (`bench.py`) and deploys it with a fixed number of instances; waits until they are Ready. */
  deployPython(name: string, text: string, instances: number, concurrency: number): Promise<void>;
  /** Applies the Workflow `name`. */
  applyWorkflow(name: string, spec: WorkflowSpec): Promise<void>;
  /** Creates a run of `workflow` on `input`; resolves once the api has stored it. */
  createRun(name: string, workflow: string, input: JsonValue): Promise<void>;
  /** Resolves when the watch sees the run in a final phase (or rejects after `ms`). Ask before creating it. */
  finished(name: string, ms: number): Promise<SeenRun>;
  /** Calls `fn` for every change of a run the watch sees, until the returned function is called. */
  onRun(fn: (seen: SeenRun) => void): () => void;
  /** Reads a run from the store. */
  getRun(name: string): Promise<WorkflowRunObject | undefined>;
  /** Deletes the runs and waits until none of them is left. */
  deleteRuns(names: string[]): Promise<void>;
  /** The hand-written loop, async path: `steps` calls of `fn`, each submitted with an id and read from the results bucket. */
  asyncLoop(fn: string, input: JsonValue, steps: number): Promise<JsonValue>;
  /** The hand-written loop, sync path: `steps` NATS requests to the gateway. */
  syncLoop(fn: string, input: JsonValue, steps: number): Promise<JsonValue>;
  /** The stored result of an async call, if any. */
  asyncResult(id: string): Promise<AsyncResult | undefined>;
  /** Stops everything, in order, and removes the data directory. */
  close(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Stops `child` by its pid (SIGTERM, then SIGKILL after `graceMs`) and waits for its exit. */
async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals, graceMs = 10_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise((r) => { timer = setTimeout(r, graceMs, 'late'); });
  if (await Promise.race([gone, late]) === 'late') { child.kill('SIGKILL'); await gone; }
  clearTimeout(timer);
}

/**
 * Starts the server, a control plane, the fake node and the gateway. Throws (after stopping what
 * it started) when one does not come up.
 */
export async function startWorkflowsEnv(say: (line: string) => void): Promise<WorkflowsEnv> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-bench-workflows-'));
  const stops: (() => Promise<void>)[] = [async () => { fs.rmSync(dir, { recursive: true, force: true }); }];
  const close = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop().catch((e: unknown) => say(`cleanup: ${String(e)}`));
  };
  let cp: ChildProcess | undefined;
  let cpErr = '';
  try {
    const server: NatsServer = await startNatsServer();
    stops.push(() => server.stop());
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ servers: [server.url], nodeName: 'bench' }), { mode: 0o600 });
    const bus = await connectBus({ servers: server.url, name: 'mk-bench-workflows' });
    stops.push(() => bus.close());

    const startControlPlane = async (): Promise<ControlPlaneStart> => {
      const spawnedAt = performance.now();
      const child = spawn(process.execPath, [BIN, 'control-plane'], {
        env: { ...process.env, MK_HOME: dir, MK_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'],
      });
      cp = child;
      child.stderr?.on('data', (b: Buffer) => { cpErr = (cpErr + b.toString()).slice(-4000); });
      await until('the control plane to answer mk.api.ping', async () => {
        if (child.exitCode !== null) throw new Error(`the control plane exited (${child.exitCode}): ${cpErr}`);
        await request(bus, API.ping, {}, { timeoutMs: 1000 });
        return true;
      }, 60_000, 10);
      return { spawnedAt, pingAt: performance.now(), pingWall: Date.now() };
    };
    stops.push(() => stopChild(cp, 'SIGTERM'));
    await startControlPlane();
    // The control plane makes the objects bucket and the async streams as it starts leading: wait for them.
    const store = await until('the objects bucket', () => ObjectStore.open(bus, { create: false }), 30_000, 100);
    const q: AsyncQueue = await until('the async streams', () => openAsyncQueue(bus.nc), 30_000, 100);

    const node: FakeFunctionNode = await startFakeFunctionNode(store, 'wf-bench-node', FIRST_LOADER_HOST);
    stops.push(() => node.stop());
    const gwBus: CoreBus = await connectCore({ servers: server.url, name: 'mk-bench-workflows-gateway' });
    stops.push(() => gwBus.close());
    const gw: Gateway = await startGateway({ bus: gwBus, port: 0 });
    stops.push(() => gw.stop());

    // The loop's answers, as a careful user waits for them: one watch of the results bucket, opened before any call.
    const waiting = new Map<string, (r: AsyncResult) => void>();
    const results = await q.results.watch({ include: KvWatchInclude.UpdatesOnly });
    stops.push(async () => { results.stop(); });
    void (async () => {
      for await (const e of results) {
        const w = waiting.get(e.key);
        if (!w || e.operation !== 'PUT') continue;
        const r = JSON.parse(dec.decode(e.value)) as AsyncResult;
        if (r.status === 'Succeeded' || r.status === 'Failed') { waiting.delete(e.key); w(r); }
      }
    })().catch((e: unknown) => say(`the results watch ended: ${String(e)}`));

    // Every run's changes, as they are written.
    const finishers = new Map<string, (s: SeenRun) => void>();
    const listeners = new Set<(s: SeenRun) => void>();
    const runs = await store.watch<WorkflowRunObject>(`workflowruns.${BENCH_NAMESPACE}.>`, {}, (ev) => {
      if (ev.type !== 'PUT' || !ev.object) return;
      const seen = { run: ev.object, seenAt: performance.now() };
      for (const l of listeners) l(seen);
      const f = finishers.get(ev.key);
      if (f && isFinalPhase(ev.object.status?.phase)) { finishers.delete(ev.key); f(seen); }
    });
    stops.push(() => runs.stop());

    const runKey = (name: string) => objectKey('workflowruns', BENCH_NAMESPACE, name);
    const prefix = `b${randomBytes(4).toString('hex')}`;
    let calls = 0;
    const callAsync = async (fn: string, input: JsonValue): Promise<JsonValue> => {
      const id = `${prefix}-${++calls}`;
      const answer = new Promise<AsyncResult>((resolve, reject) => {
        const timer = setTimeout(() => { waiting.delete(id); reject(new Error(`no result for the async call ${id} of ${fn} in ${CALL_TIMEOUT_MS} ms`)); }, CALL_TIMEOUT_MS);
        waiting.set(id, (r) => { clearTimeout(timer); resolve(r); });
      });
      const submit: AsyncSubmit = { body: JSON.stringify(input), id, retry: false };
      const reply = JSON.parse(dec.decode((await bus.nc.request(asyncInvokeSubject(BENCH_NAMESPACE, fn), enc.encode(JSON.stringify(submit)), { timeout: CALL_TIMEOUT_MS })).data)) as InvokeReply;
      if (reply.status !== 202) { waiting.delete(id); throw new Error(`the gateway did not queue a call of ${fn}: ${reply.status} ${JSON.stringify(reply.body)}`); }
      const r = await answer;
      if (r.status !== 'Succeeded') throw new Error(`the async call ${id} of ${fn} failed: ${r.error ?? r.status}`);
      return (r.result ?? null) as JsonValue;
    };
    const callSync = async (fn: string, input: JsonValue): Promise<JsonValue> => {
      const reply = JSON.parse(dec.decode((await bus.nc.request(functionInvokeSubject(BENCH_NAMESPACE, fn), enc.encode(JSON.stringify(input)), { timeout: CALL_TIMEOUT_MS })).data)) as InvokeReply;
      if (reply.status !== 200) throw new Error(`a call of ${fn} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
      return reply.body as JsonValue;
    };

    return {
      dir, bus, store, startControlPlane, close,
      async killControlPlane() {
        const child = cp;
        cp = undefined;
        await stopChild(child, 'SIGKILL');
      },
      async deployPython(name, text, instances, concurrency) {
        const code = fs.mkdtempSync(path.join(dir, `${name}-`));
        fs.writeFileSync(path.join(code, 'bench.py'), text);
        await deployFunction(bus, name, 'python3', code, { minInstances: instances, maxInstances: instances, concurrency });
        await readyInstances(bus, name, instances);
      },
      async applyWorkflow(name, spec) {
        await request(bus, API.apply, { object: { apiVersion: 'mk.io/v1', kind: 'Workflow', metadata: { name, namespace: BENCH_NAMESPACE }, spec } });
      },
      async createRun(name, workflow, input) {
        const object = { apiVersion: 'mk.io/v1', kind: 'WorkflowRun', metadata: { name, namespace: BENCH_NAMESPACE }, spec: { workflowRef: { name: workflow }, input } };
        // A burst of creates queues at the api: give each more than the default wait.
        await request(bus, API.create, { object: object as unknown as KubeObject }, { timeoutMs: 30_000 });
      },
      finished(name, ms) {
        return new Promise<SeenRun>((resolve, reject) => {
          const key = runKey(name);
          const timer = setTimeout(() => { finishers.delete(key); reject(new Error(`run ${name} did not finish in ${ms} ms`)); }, ms);
          finishers.set(key, (s) => { clearTimeout(timer); resolve(s); });
        });
      },
      onRun(fn) {
        listeners.add(fn);
        return () => { listeners.delete(fn); };
      },
      async getRun(name) {
        return (await store.get<WorkflowRunObject>(runKey(name)))?.object;
      },
      async deleteRuns(names) {
        await Promise.all(names.map((name) => request(bus, API.delete, { kind: 'workflowruns', namespace: BENCH_NAMESPACE, name }).catch(() => undefined)));
        await until('the runs deleted', async () => {
          for (const name of names) if (await store.get(runKey(name))) return undefined;
          return true;
        }, 120_000, 100);
      },
      async asyncLoop(fn, input, steps) {
        let v = input;
        for (let i = 0; i < steps; i++) v = await callAsync(fn, v);
        return v;
      },
      async syncLoop(fn, input, steps) {
        let v = input;
        for (let i = 0; i < steps; i++) v = await callSync(fn, v);
        return v;
      },
      async asyncResult(id) {
        const e = await q.results.get(id);
        if (!e || e.operation !== 'PUT' || e.value.length === 0) return undefined;
        return JSON.parse(dec.decode(e.value)) as AsyncResult;
      },
    };
  } catch (e) {
    await close();
    throw e;
  }
}
