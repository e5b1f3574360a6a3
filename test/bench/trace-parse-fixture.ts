/**
 * Records shaped like those of a real trace of one pod, `web`, at made-up times (ms after T): the
 * bus as the tap sees it, the node agent's gRPC trace and containerd's log. Shared by the tests
 * of the trace's reading and of its report.
 */
import type { TraceRecords } from './trace';
import { parseContainerdLog, parseGrpcTrace, processIdentities, type Consumers, type PodTraceInput, type TapRecord } from './trace-parse';

/** The trace's time zero (epoch ms). */
export const T = Date.parse('2026-11-29T21:15:45.000Z');
// Each process's nuid prefix (12 characters) and the identity it connects as.
/** The client's process (nuid prefix). */
export const CLIENT = 'CLIENTaaaaaa';
/** The control plane's process. */
export const CP = 'CTRLPLANEaaa';
/** The node agent's process. */
export const NODE = 'NODEAGENTaaa';
/** The identity each process connects as. */
export const IDS = { [CLIENT]: 'admin', [CP]: 'control-plane', [NODE]: 'node-vm' } as Record<string, string>;
/** The pod's key in the objects bucket. */
export const SUBJ = '$KV.mk-objects.pods.default.web';
/** The pod's key in node vm's view. */
export const VIEW = '$KV.mk-node-pods.vm.default.web';
/** An inbox of process `proc`, under its identity's prefix. */
export const inbox = (proc: string, tok: string) => `_INBOX.${IDS[proc]}.${proc}bbbbbbbbbb.${tok}`;
/** An ordered consumer made by process `proc`. */
export const consumer = (proc: string, tok: string) => `${proc}${tok.padEnd(10, 'c')}_1`;
/** The reply subject of a delivery of stream sequence `seq` to consumer `c`. */
export const ack = (stream: string, c: string, seq: number) => `$JS.ACK.${stream}.${c}.1.${seq}.1.1795986945.0`;
/** A delivery's reply subject on the objects bucket. */
export const objAck = (c: string, seq: number) => ack('KV_mk-objects', c, seq);
/** The pods supervisor's informer. */
export const PODS_SUP = consumer(CP, 'pods');
/** The scheduler cache's pod informer. */
export const SCHED_PODS = consumer(CP, 'sched');
/** The watch publisher's informer. */
export const WATCH_PUB = consumer(CP, 'all');
/** The node agent's informer on its view. */
export const NODE_PODS = consumer(NODE, 'pods');
/** The control plane's consumers, sorted. */
export const consumers: Consumers = { watchPublisher: new Set([WATCH_PUB]), podWatches: new Set([PODS_SUP, SCHED_PODS]) };
const get = (t: number, proc: string, tok: string, subj: string): TapRecord =>
  ({ t: T + t, subject: '$JS.API.STREAM.MSG.GET.KV_mk-objects', reply: inbox(proc, tok), data: JSON.stringify({ last_by_subj: subj }) });
const pod = (extra: object) => JSON.stringify({ kind: 'Pod', metadata: { name: 'web' }, ...extra });
const exp = (seq: number) => ({ 'Nats-Expected-Last-Subject-Sequence': String(seq) });
const running = { status: { phase: 'Running' } };

/** The bus records of pod `web`'s path, as a tap sees them. */
export function records(opts: { bind?: boolean; watchAt?: number } = {}): TapRecord[] {
  const r: TapRecord[] = [
    { t: T + 0.4, subject: 'mk.api.apply', reply: inbox(CLIENT, 'apply'), data: JSON.stringify({ object: { metadata: { name: 'web' } } }) },
    get(1.5, CP, 'g1', '$KV.mk-objects.namespaces._cluster.default'),
    get(2.0, CP, 'g2', SUBJ),
    { t: T + 2.8, subject: SUBJ, reply: inbox(CP, 'create'), headers: exp(0), data: pod({}) },
    { t: T + 2.9, subject: inbox(CP, 'create'), data: '{"stream":"KV_mk-objects", "seq":7}' },
    { t: T + 3.0, subject: SUBJ, reply: objAck(SCHED_PODS, 7), headers: exp(0), data: pod({}) },
    { t: T + 3.05, subject: SUBJ, reply: objAck(WATCH_PUB, 7), headers: exp(0), data: pod({}) },
    { t: T + 3.1, subject: SUBJ, reply: objAck(PODS_SUP, 7), headers: exp(0), data: pod({}) },
    { t: T + 4.0, subject: inbox(CLIENT, 'apply') },
    get(5.0, CP, 'g3', SUBJ),
    get(6.0, CP, 'g4', SUBJ),
    { t: T + 7.4, subject: SUBJ, reply: objAck(PODS_SUP, 8), headers: exp(7), data: pod({ spec: { nodeName: 'vm' } }) },
    { t: T + 8.0, subject: 'mk.events.default.Pod.default-scheduler', reply: inbox(CP, 'e0') },
    // The pod actor writes the view from the scheduler's answer, then reconciles on the bind.
    { t: T + 8.5, subject: VIEW, reply: inbox(CP, 'view') },
    { t: T + 8.6, subject: inbox(CP, 'view'), data: '{"stream":"KV_mk-node-pods", "seq":3}' },
    { t: T + 8.8, subject: VIEW, reply: ack('KV_mk-node-pods', NODE_PODS, 3) },
    get(9.0, CP, 'g5', SUBJ),
    { t: T + 11.0, subject: '$JS.API.STREAM.MSG.GET.KV_mk-snapshots', reply: inbox(NODE, 's1'), data: '{}' },
    { t: T + 11.3, subject: inbox(NODE, 's1'), data: '{}' },
    { t: T + 12.0, subject: '$JS.API.STREAM.MSG.GET.MK_JOURNAL', reply: inbox(NODE, 'j1'), data: '{}' },
    { t: T + 12.4, subject: inbox(NODE, 'j1'), data: '{}' },
    { t: T + 120, subject: 'mk.events.default.Pod.mk-node-vm', reply: inbox(NODE, 'e1') },
    { t: T + 174, subject: 'mk.api.node.vm.pod-status', reply: inbox(NODE, 'status'), data: JSON.stringify({ namespace: 'default', name: 'web', uid: 'u1', ...running }) },
    get(174.5, CP, 'g6', SUBJ),
    { t: T + 176, subject: SUBJ, reply: inbox(CP, 'status'), headers: exp(8), data: pod(running) },
    { t: T + 176.1, subject: inbox(CP, 'status'), data: '{"stream":"KV_mk-objects", "seq":9}' },
    { t: T + 176.2, subject: SUBJ, reply: objAck(WATCH_PUB, 9), headers: exp(8), data: pod(running) },
    { t: T + (opts.watchAt ?? 177), subject: 'mk.watch.pods.default.web', data: JSON.stringify({ type: 'MODIFIED', object: running }) },
    { t: T + 177.5, subject: inbox(NODE, 'status'), data: '{"ok":true}' },
    // What the status write sets off: the node is sent its view (which carries the status) again.
    get(178, CP, 'g7', SUBJ),
    { t: T + 178.5, subject: VIEW, reply: inbox(CP, 'view2') },
  ];
  if (opts.bind !== false) {
    r.push({ t: T + 7.0, subject: SUBJ, reply: inbox(CP, 'bind'), headers: exp(7), data: pod({ spec: { nodeName: 'vm' } }) });
    r.push({ t: T + 7.1, subject: inbox(CP, 'bind'), data: '{"stream":"KV_mk-objects", "seq":8}' });
  }
  return r.sort((a, b) => a.t - b.t);
}

const iso = (ms: number) => new Date(T + ms).toISOString();
/** The node agent's gRPC trace of pod `web` (and the observation after Running). */
export const GRPC = [
  [13, 1, 'RuntimeService/ListPodSandbox', 15], [13, 2, 'RuntimeService/ListContainers', 15], [13, 3, 'ImageService/ImageStatus', 14],
  [16, 4, 'RuntimeService/RunPodSandbox', 100],
  // The observation after an action asks for the status of what it made along with its lists.
  [101, 5, 'RuntimeService/PodSandboxStatus', 103], [101, 6, 'RuntimeService/ListPodSandbox', 104], [101, 7, 'RuntimeService/ListContainers', 103],
  [105, 8, 'RuntimeService/CreateContainer', 114], [114, 9, 'RuntimeService/StartContainer', 166],
  [167, 10, 'RuntimeService/ContainerStatus', 169], [167, 11, 'RuntimeService/ListPodSandbox', 170], [167, 12, 'RuntimeService/ListContainers', 169],
  [168, 13, 'RuntimeService/Version', 169],
  [180, 14, 'RuntimeService/ListPodSandbox', 182], [180, 15, 'RuntimeService/ListContainers', 182],
].flatMap(([start, n, method, end]) => [
  `D ${iso(start as number)} | v1.14.7 123 | channel | (5) unix:///x/containerd.sock createResolvingCall [${n}] method="/runtime.v1.${method}", deadline=${iso(30_000)}`,
  `D ${iso(start as number)} | v1.14.7 123 | resolving_call | [${n}] Created`,
  `{"level":20,"time":${T + (start as number)},"msg":"reconcile"}`,
  `D ${iso(end as number)} | v1.14.7 123 | resolving_call | [${n}] ended with status: code=0 details=""`,
]).join('\n');

/** containerd's log of pod `web` (and the start of another pod's sandbox). */
export const CTRD = [
  'time="2026-11-29T21:15:45.018250000Z" level=info msg="RunPodSandbox for &PodSandboxMetadata{Name:web,Uid:u1,Namespace:default,Attempt:0,}"',
  'time="2026-11-29T21:15:45.020000000Z" level=info msg="RunPodSandbox for &PodSandboxMetadata{Name:other,Uid:u2,Namespace:default,Attempt:0,}"',
  'time="2026-11-29T21:15:45.099750000Z" level=info msg="RunPodSandbox for &PodSandboxMetadata{Name:web,Uid:u1,Namespace:default,Attempt:0,} returns sandbox id \\"sb1\\""',
  'time="2026-11-29T21:15:45.106000000Z" level=info msg="CreateContainer within sandbox \\"sb1\\" for container &ContainerMetadata{Name:main,Attempt:0,}"',
  'time="2026-11-29T21:15:45.113000000Z" level=info msg="CreateContainer within sandbox \\"sb1\\" for &ContainerMetadata{Name:main,Attempt:0,} returns container id \\"ct1\\""',
  'time="2026-11-29T21:15:45.115000000Z" level=info msg="StartContainer for \\"ct1\\""',
  'time="2026-11-29T21:15:45.165500000Z" level=info msg="StartContainer for \\"ct1\\" returns successfully"',
  'time="2026-11-29T21:15:45.170000000Z" level=warning msg="something else"',
].join('\n');

/** podTrace's input for pod `web` with these bus records. */
export function input(tap: TapRecord[]): PodTraceInput {
  return {
    name: 'web', appliedAt: T, runningAt: T + 177.3, tap, calls: parseGrpcTrace(GRPC), spans: parseContainerdLog(CTRD),
    processes: { client: 'admin', controlPlane: 'control-plane', node: 'node-vm' }, consumers, identities: processIdentities(tap),
  };
}

/** Everything a trace reads, for pod `web` alone. */
export function traceRecords(tap: TapRecord[] = records()): TraceRecords {
  return {
    tap, runs: [{ name: 'web', appliedAt: T, runningAt: T + 177.3, busy: 0 }],
    processes: { client: 'admin', controlPlane: 'control-plane', node: 'node-vm' }, consumers, nodeAgentLog: GRPC, containerdLog: CTRD,
  };
}
