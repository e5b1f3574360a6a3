/**
 * `npm run bench -- trace`: follows pods one at a time from apply to Running, every hop and every
 * write, from outside the processes:
 *
 * - the bus: a second connection (as the control plane, the one identity that may listen to every
 *   other's traffic) subscribes to every subject mk uses (`mk.>`, `$KV.>`, `$JS.API.>` and
 *   `_INBOX.>`, which also carries JetStream's deliveries to consumers and every reply) and
 *   timestamps each message. Who sent what is read from the inbox prefix every identity has of its
 *   own (`_INBOX.<identity>.`); a delivery's consumer is known by the nuid of the process that
 *   made it, which that process's inboxes carry too;
 * - the node agent's CRI calls: grpc-js's own trace (GRPC_TRACE), switched on through the
 *   environment `mk up` passes to its children;
 * - containerd's log, where the CRI plugin logs each RunPodSandbox, CreateContainer and
 *   StartContainer as it starts and returns.
 *
 * Each pod is alone on a quiet node, so every CRI call in its window is its own. The tracer
 * costs a little (the bus delivers everything twice, the node agent writes its gRPC trace):
 * compare the trace's total with `pod-startup`'s one-after-another figure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { connectBus } from '../../bus';
import { applyUntilRunning, deletePods, noBenchPods, openBenchEnv } from './bench-env';
import { waitForQuietNode } from './quiet';
import {
  AFTER_RUNNING_MS, ANCHORS, classifyConsumers, identifyProcesses, parseContainerdLog, parseGrpcTrace, podTrace, processIdentities,
  type Consumers, type Processes, type PodTrace, type TapRecord,
} from './trace-parse';

/** What `trace` measured: per step (consecutive anchors) and per side figure, one value per pod. */
export interface TraceResult {
  pods: number;
  traced: string[];
  failed: { name: string; reason: string }[];
  steps: { from: string; to: string; ms: number[] }[];
  side: Record<string, number[]>;
  counts: Record<string, number[]>;
  total: number[];
  /** Busy share of the CPU measured before each pod (another workload shows here). */
  busyBefore: number[];
}

/** Options of the inner trace. */
export interface TraceOptions {
  dataDir: string;
  pods: number;
  /** Also write the raw records here (bus messages, the node agent's, control plane's and containerd's logs). */
  saveDir?: string;
  progress?: (line: string) => void;
}

const GRPC_ENV = { GRPC_TRACE: 'channel,resolving_call', GRPC_VERBOSITY: 'DEBUG' } as const;

/**
 * Sets the environment that makes the node agent `mk up` starts trace its gRPC calls (children
 * inherit it). Returns a function that restores the previous values; call it once the cluster
 * is up, so nothing else this process starts traces too.
 */
export function traceClusterEnv(): () => void {
  const before = Object.fromEntries(Object.keys(GRPC_ENV).map((k) => [k, process.env[k]]));
  Object.assign(process.env, GRPC_ENV);
  return () => {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

const td = new TextDecoder();
// Payloads the reading needs; other messages keep subject, reply and time only.
const KEEP_DATA = [
  /^mk\.api\.apply$/, /^mk\.watch\.pods\./, /^\$KV\.mk-objects\.pods\./, /^\$JS\.API\.STREAM\.MSG\.GET\./, /^mk\.api\.list$/,
  /^mk\.api\.node\.[^.]+\.pod-status$/,
];
const KEEP_HEADERS = ['Nats-Expected-Last-Subject-Sequence', 'KV-Operation'];
/** The tap's own replies go here, so its requests (listing consumers) are never taken for mk's. */
const TAP_INBOX = '_INBOX.mk-trace';
/**
 * After a pod is Running the client waits this long before deleting it, so that what the status
 * write sets off (the node is sent its view again) is recorded apart from the deletion.
 */
const SETTLE_MS = AFTER_RUNNING_MS + 150;

/** Traces `pods` pods and prints the result as one JSON line. */
export async function traceInner(opts: TraceOptions): Promise<void> {
  const res = await trace({ ...opts, progress: opts.progress ?? ((l) => console.error(l)) });
  console.log(JSON.stringify(res));
}

/** Runs the trace against the cluster in `opts.dataDir`. Throws when no pod could be read. */
export async function trace(opts: TraceOptions): Promise<TraceResult> {
  const say = opts.progress ?? (() => undefined);
  const env = await openBenchEnv(opts.dataDir, 'mk-trace');
  // The tap listens to every identity's traffic, which only the control plane's user may: a
  // diagnostic run as root on the machine that holds the credentials.
  const ctx = JSON.parse(fs.readFileSync(path.join(opts.dataDir, 'config.json'), 'utf8')) as { servers: string[]; caFile?: string };
  const creds = JSON.parse(fs.readFileSync(path.join(opts.dataDir, 'credentials.json'), 'utf8')) as { users: Record<string, string> };
  const tapBus = await connectBus({
    servers: ctx.servers, user: 'control-plane', pass: creds.users['control-plane'], name: 'mk-trace-tap', inboxPrefix: TAP_INBOX, caFile: ctx.caFile,
  });
  const tap: TapRecord[] = [];
  const origin = performance.timeOrigin;
  try {
    for (const s of ['mk.>', '$KV.>', '$JS.API.>', '_INBOX.>']) {
      tapBus.nc.subscribe(s, {
        callback: (_err, m) => {
          if (m.subject.startsWith(`${TAP_INBOX}.`) || m.reply?.startsWith(`${TAP_INBOX}.`)) return;
          const rec: TapRecord = { t: origin + performance.now(), subject: m.subject };
          if (m.reply) rec.reply = m.reply;
          if (m.headers) {
            const h: Record<string, string> = {};
            for (const k of KEEP_HEADERS) { const v = m.headers.get(k); if (v) h[k] = v; }
            rec.headers = h;
          }
          // Replies: keep the small ones (acknowledgements carry the stored revision).
          if (KEEP_DATA.some((re) => re.test(m.subject)) || (m.subject.startsWith('_INBOX.') && m.data.length < 200)) rec.data = td.decode(m.data);
          tap.push(rec);
        },
      });
    }
    await tapBus.nc.flush();
    const quiet = () => waitForQuietNode(env.cri, { alsoWaitFor: () => noBenchPods(env.bus) });
    const one = async (name: string) => {
      const [t] = await applyUntilRunning(env.bus, [name], false);
      await new Promise((resolve) => { setTimeout(resolve, SETTLE_MS); });
      await deletePods(env.bus, [name]);
      return { appliedAt: origin + t.appliedAt, runningAt: origin + t.runningAt };
    };
    const controlPlaneLog = () => fs.readFileSync(path.join(opts.dataDir, 'logs', 'control-plane.log'), 'utf8');
    const records = (runs: TraceRecords['runs'], processes: Processes, consumers: Consumers): TraceRecords => ({
      tap, runs, processes, consumers,
      nodeAgentLog: fs.readFileSync(path.join(opts.dataDir, 'logs', 'node-agent.log'), 'utf8'),
      containerdLog: fs.readFileSync(path.join(opts.dataDir, 'node', 'containerd', 'containerd.log'), 'utf8'),
    });
    const consumers: Consumers = { watchPublisher: new Set(), podWatches: new Set() };
    const unknown: Processes = { client: '', controlPlane: '', node: '' };

    say('warm-up pod (not counted) ...');
    await quiet();
    const warm = await one('trace-warm');
    await quiet();
    let procs: Processes;
    try {
      procs = identifyProcesses(tap.filter((r) => r.t >= warm.appliedAt - 1), 'trace-warm');
    } catch (e) {
      // What was seen is what tells why: keep it.
      if (opts.saveDir) saveRecords(opts.saveDir, records([{ name: 'trace-warm', ...warm, busy: 0 }], unknown, consumers), controlPlaneLog());
      throw e;
    }
    say(`identities: client ${procs.client}, control plane ${procs.controlPlane}, node ${procs.node}`);
    const listConsumers = async () => classifyConsumers(await tapBus.jsm.consumers.list('KV_mk-objects').next(), procs, processIdentities(tap), consumers);
    await listConsumers();

    const runs: TraceRecords['runs'] = [];
    for (let i = 0; i < opts.pods; i++) {
      const name = `trace-${i}`;
      const q = await quiet();
      runs.push({ name, ...(await one(name)), busy: q.busy });
      say(`  ${name}: ${(runs[i].runningAt - runs[i].appliedAt).toFixed(1)} ms (after ${q.waitedMs} ms waiting for a quiet node, CPU ${Math.round(q.busy * 100)} % busy)`);
    }
    await quiet();
    // A consumer re-created during the run (a resumed watch) is known by its name afterwards.
    await listConsumers();

    const rec = records(runs, procs, consumers);
    if (opts.saveDir) {
      saveRecords(opts.saveDir, rec, controlPlaneLog());
      say(`raw records saved in ${opts.saveDir} (npm run bench -- trace --from ${opts.saveDir} reads them again)`);
    }
    return readTrace(rec);
  } finally {
    await tapBus.close();
    await env.close();
  }
}

/** Everything a trace reads: the bus records, the pods' client times, and the two logs. */
export interface TraceRecords {
  tap: TapRecord[];
  runs: { name: string; appliedAt: number; runningAt: number; busy: number }[];
  processes: Processes;
  consumers: Consumers;
  nodeAgentLog: string;
  containerdLog: string;
}

const SAVED = { bus: 'bus.jsonl', pods: 'pods.json', nodeAgent: 'node-agent.log', controlPlane: 'control-plane.log', containerd: 'containerd.log' };

/** Writes the records (and the control plane's log, for reading by eye) into `dir`. */
function saveRecords(dir: string, rec: TraceRecords, controlPlaneLog: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, SAVED.bus), rec.tap.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const consumers = Object.fromEntries(Object.entries(rec.consumers).map(([k, v]) => [k, [...(v as Set<string>)]]));
  fs.writeFileSync(path.join(dir, SAVED.pods), JSON.stringify({ processes: rec.processes, consumers, runs: rec.runs }, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, SAVED.nodeAgent), rec.nodeAgentLog);
  fs.writeFileSync(path.join(dir, SAVED.containerd), rec.containerdLog);
  fs.writeFileSync(path.join(dir, SAVED.controlPlane), controlPlaneLog);
}

/** Reads records saved with `--save`. Throws when a file is missing or malformed. */
export function loadRecords(dir: string): TraceRecords {
  const pods = JSON.parse(fs.readFileSync(path.join(dir, SAVED.pods), 'utf8')) as {
    processes: Processes; consumers: Record<keyof Consumers, string[]>; runs: TraceRecords['runs'];
  };
  return {
    tap: fs.readFileSync(path.join(dir, SAVED.bus), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as TapRecord),
    runs: pods.runs,
    processes: pods.processes,
    consumers: { watchPublisher: new Set(pods.consumers.watchPublisher), podWatches: new Set(pods.consumers.podWatches) },
    nodeAgentLog: fs.readFileSync(path.join(dir, SAVED.nodeAgent), 'utf8'),
    containerdLog: fs.readFileSync(path.join(dir, SAVED.containerd), 'utf8'),
  };
}

/** Reads every pod's path out of the records. Throws when no pod could be read. */
export function readTrace(rec: TraceRecords): TraceResult {
  const calls = parseGrpcTrace(rec.nodeAgentLog);
  const spans = parseContainerdLog(rec.containerdLog);
  const identities = processIdentities(rec.tap);
  const traces: PodTrace[] = [];
  const failed: { name: string; reason: string }[] = [];
  for (const r of rec.runs) {
    try {
      traces.push(podTrace({ ...r, tap: rec.tap, calls, spans, processes: rec.processes, consumers: rec.consumers, identities }));
    } catch (e) {
      failed.push({ name: r.name, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  if (traces.length === 0) throw new Error(`no pod could be traced: ${failed.map((f) => f.reason).join('; ')}`);
  const r2 = (v: number) => Math.round(v * 100) / 100;
  const side: Record<string, number[]> = {};
  for (const t of traces) for (const [k, v] of Object.entries(t.side)) (side[k] ??= []).push(r2(v));
  return {
    pods: rec.runs.length,
    traced: traces.map((t) => t.name),
    failed,
    steps: ANCHORS.slice(1).map((to, i) => ({ from: ANCHORS[i], to, ms: traces.map((t) => r2(t.anchors[to] - t.anchors[ANCHORS[i]])) })),
    side,
    // A count a pod did not have is a zero, not a missing sample.
    counts: Object.fromEntries([...new Set(traces.flatMap((t) => Object.keys(t.counts)))].sort()
      .map((k) => [k, traces.map((t) => t.counts[k] ?? 0)])),
    total: traces.map((t) => r2(t.anchors.runningSeen - t.anchors.applySent)),
    busyBefore: rec.runs.map((r) => Math.round(r.busy * 1000) / 1000),
  };
}
