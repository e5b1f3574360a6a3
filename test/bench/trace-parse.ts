/**
 * Reading a pod's path from apply to Running out of three records taken from outside the
 * processes: the bus (every message, timestamped where the tracer received it), the node agent's
 * gRPC client trace (grpc-js's own `GRPC_TRACE`, one line per call event) and containerd's log
 * (its CRI plugin logs each RunPodSandbox, CreateContainer and StartContainer as it starts and
 * returns). Pure functions: the I/O lives in trace.ts.
 */

/** One message seen on the bus: epoch ms (sub-ms), subject, reply subject, headers, payload. */
export interface TapRecord { t: number; subject: string; reply?: string; headers?: Record<string, string>; data?: string }

/** One CRI call made by the node agent, from its gRPC trace (epoch ms, 1 ms resolution). */
export interface CriCall { n: number; method: string; start: number; end?: number; code?: number }

/** One CRI operation as containerd logged it (epoch ms, sub-ms). */
export interface ContainerdSpan {
  op: 'RunPodSandbox' | 'CreateContainer' | 'StartContainer';
  /** The pod name (RunPodSandbox) or the sandbox id (CreateContainer) or container id (StartContainer) it was for. */
  subject: string;
  start: number;
  end?: number;
  /** What it returned: the sandbox id or container id. */
  result?: string;
}

const CALL_START = /^D (\S+) \| v\S+ \d+ \| channel \| \(\d+\) \S+ createResolvingCall \[(\d+)\] method="\/runtime\.v1\.\w+\/(\w+)"/;
const CALL_END = /^D (\S+) \| v\S+ \d+ \| resolving_call \| \[(\d+)\] ended with status: code=(\d+)/;

/**
 * The CRI calls in a node agent log written with GRPC_TRACE=channel,resolving_call. Other lines
 * are skipped. grpc-js stamps lines to the millisecond: a time here is the middle of its
 * millisecond, so that steps between a bus time and a call time are not biased by the truncation.
 */
export function parseGrpcTrace(text: string): CriCall[] {
  const calls = new Map<number, CriCall>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('D ')) continue;
    let m = CALL_START.exec(line);
    if (m) {
      calls.set(Number(m[2]), { n: Number(m[2]), method: m[3], start: Date.parse(m[1]) + 0.5 });
      continue;
    }
    m = CALL_END.exec(line);
    if (m) {
      const c = calls.get(Number(m[2]));
      if (c && c.end === undefined) { c.end = Date.parse(m[1]) + 0.5; c.code = Number(m[3]); }
    }
  }
  return [...calls.values()].sort((a, b) => a.start - b.start || a.n - b.n);
}

/** RFC 3339 with up to nanoseconds to epoch ms, keeping the sub-millisecond part. */
export function parseRfc3339(s: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return NaN;
  const frac = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  return Date.parse(`${m[1]}${m[3]}`) + frac;
}

const CTRD_LINE = /^time="([^"]+)" level=\w+ msg="(.*)"\s*$/;

/** containerd's RunPodSandbox, CreateContainer and StartContainer spans from its log. */
export function parseContainerdLog(text: string): ContainerdSpan[] {
  const open = new Map<string, ContainerdSpan>();
  const out: ContainerdSpan[] = [];
  for (const line of text.split('\n')) {
    const l = CTRD_LINE.exec(line);
    if (!l) continue;
    const t = parseRfc3339(l[1]);
    const msg = l[2].replace(/\\"/g, '"');
    let m: RegExpExecArray | null;
    if ((m = /^RunPodSandbox for &PodSandboxMetadata\{Name:([^,]+),Uid:([^,]+),.*?\}( returns sandbox id "(\w+)")?/.exec(msg))) {
      const k = `run/${m[2]}`;
      if (!m[3]) { const s: ContainerdSpan = { op: 'RunPodSandbox', subject: m[1], start: t }; open.set(k, s); out.push(s); } else {
        const s = open.get(k);
        if (s) { s.end = t; s.result = m[4]; open.delete(k); }
      }
    } else if ((m = /^CreateContainer within sandbox "(\w+)" for (?:container )?&ContainerMetadata\{Name:([^,]+),Attempt:(\d+),\}( returns container id "(\w+)")?/.exec(msg))) {
      const k = `create/${m[1]}/${m[2]}/${m[3]}`;
      if (!m[4]) { const s: ContainerdSpan = { op: 'CreateContainer', subject: m[1], start: t }; open.set(k, s); out.push(s); } else {
        const s = open.get(k);
        if (s) { s.end = t; s.result = m[5]; open.delete(k); }
      }
    } else if ((m = /^StartContainer for "(\w+)"( returns successfully)?/.exec(msg))) {
      const k = `start/${m[1]}`;
      if (!m[2]) { const s: ContainerdSpan = { op: 'StartContainer', subject: m[1], start: t }; open.set(k, s); out.push(s); } else {
        const s = open.get(k);
        if (s) { s.end = t; open.delete(k); }
      }
    }
  }
  return out;
}

/**
 * The identity and process of an inbox subject. Every identity has its own inbox prefix
 * (`_INBOX.<identity>.`, docs/api.md) and nats.js follows it with a nuid whose first 12
 * characters are the same for every inbox of one process. Undefined for other subjects.
 */
export function inboxOf(subject: string | undefined): { identity: string; process: string } | undefined {
  const m = /^_INBOX\.([^.]+)\.([A-Za-z0-9]{12})/.exec(subject ?? '');
  return m ? { identity: m[1], process: m[2] } : undefined;
}

/** The stream, consumer and stream sequence of a JetStream delivery (its `$JS.ACK...` reply subject). */
export function deliveryOf(reply: string | undefined): { stream: string; consumer: string; seq: number } | undefined {
  const m = /^\$JS\.ACK\.([^.]+)\.([^.]+)\.\d+\.(\d+)\./.exec(reply ?? '');
  return m ? { stream: m[1], consumer: m[2], seq: Number(m[3]) } : undefined;
}

/**
 * The process that made a consumer: nats.js names ordered consumers `oc_<nuid>_<serial>`, with the
 * nuid of the process that opened it. Undefined for a name of another shape.
 */
export function consumerProcess(name: string): string | undefined {
  return /^(?:oc_)?([A-Za-z0-9]{12})[A-Za-z0-9]*_\d+$/.exec(name)?.[1];
}

/**
 * Which identity each process connects as, learnt from the inboxes on the bus: process (nuid
 * prefix) -> identity. The tracer's own process uses two identities (the client's and its tap's);
 * it opens no consumer, so which one it maps to does not matter.
 */
export function processIdentities(tap: TapRecord[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of tap) {
    for (const s of [r.subject, r.reply]) {
      const i = inboxOf(s);
      if (i && !out.has(i.process)) out.set(i.process, i.identity);
    }
  }
  return out;
}

/**
 * The identity behind a bus message, from its reply subject: an inbox names its identity; a
 * delivery's `$JS.ACK` subject names its consumer, whose process `identities` knows.
 */
export function identityOf(reply: string | undefined, identities: Map<string, string>): string | undefined {
  const inbox = inboxOf(reply);
  if (inbox) return inbox.identity;
  const d = deliveryOf(reply);
  const proc = d ? consumerProcess(d.consumer) : undefined;
  return proc ? identities.get(proc) : undefined;
}

/** Which consumers of the objects bucket do what (control plane's), from their filters. */
export interface Consumers {
  /** The watch publisher (filter: every key), which republishes each change on mk.watch. */
  watchPublisher: Set<string>;
  /** The pods supervisor's and the scheduler cache's informers (filter: pods). */
  podWatches: Set<string>;
}

/** The identities the trace tells apart (docs/api.md): the client, the control plane and the node. */
export interface Processes { client: string; controlPlane: string; node: string }

const OBJECTS = 'mk-objects';
const VIEWS = 'mk-node-pods';
const EXPECTED_SEQ = 'Nats-Expected-Last-Subject-Sequence';
const POD_STATUS = /^mk\.api\.node\.[^.]+\.pod-status$/;

function parseJson(s: string | undefined): unknown {
  try { return s ? JSON.parse(s) : undefined; } catch { return undefined; }
}

/** What classifyConsumers needs of a consumer's info (as `jsm.consumers.list` gives it). */
export interface ConsumerSummary { name: string; config: { filter_subject?: string; filter_subjects?: string[] } }

/**
 * Sorts the control plane's consumers of the objects bucket by their filters into `into`: the
 * watch publisher watches every key, the pods supervisor and the scheduler cache watch the pods.
 * Consumers of other processes, or with other filters, are left out.
 */
export function classifyConsumers(infos: ConsumerSummary[], procs: Processes, identities: Map<string, string>, into: Consumers): void {
  for (const ci of infos) {
    const filters = [ci.config.filter_subject, ...(ci.config.filter_subjects ?? [])].filter((f): f is string => !!f);
    if (identities.get(consumerProcess(ci.name) ?? '') !== procs.controlPlane) continue;
    if (filters.includes(`$KV.${OBJECTS}.>`)) into.watchPublisher.add(ci.name);
    if (filters.includes(`$KV.${OBJECTS}.pods.>`)) into.podWatches.add(ci.name);
  }
}

/**
 * The identities of the client, the control plane and the node, each read from the inbox of a
 * message only it sends for pod `name` (default namespace): the apply, the KV create, the
 * pod-status request. Throws naming what it could not find.
 */
export function identifyProcesses(tap: TapRecord[], name: string): Processes {
  const subject = `$KV.${OBJECTS}.pods.default.${name}`;
  const named = (r: TapRecord) => (parseJson(r.data) as { name?: string; object?: { metadata?: { name?: string } } } | undefined);
  const client = inboxOf(tap.find((r) => r.subject === 'mk.api.apply' && named(r)?.object?.metadata?.name === name)?.reply)?.identity;
  const controlPlane = inboxOf(tap.find((r) => r.subject === subject && r.headers?.[EXPECTED_SEQ] === '0')?.reply)?.identity;
  const node = inboxOf(tap.find((r) => POD_STATUS.test(r.subject) && named(r)?.name === name)?.reply)?.identity;
  if (!client || !controlPlane || !node) {
    throw new Error(`could not tell the processes apart from pod ${name}'s messages (client ${client}, control plane ${controlPlane}, node ${node})`);
  }
  return { client, controlPlane, node };
}

/**
 * The moments of one pod's path from apply to Running, in epoch ms, in path order. Each step of
 * the trace is the time between two consecutive anchors, so the steps add up to the total.
 */
export const ANCHORS = [
  'applySent', 'applyAtServer', 'apiFirstRead', 'kvCreate', 'podWatch', 'podActorRead', 'schedulerRead', 'bindWrite',
  'bindStored', 'viewWrite', 'nodeWatch', 'podActorRecovered', 'firstCriCall',
  'runSandboxStart', 'runSandboxEnd', 'createStart', 'createEnd', 'startStart', 'startEnd',
  'statusRequest', 'statusRead', 'statusWrite', 'watchPublished', 'runningSeen',
] as const;
/** One moment of the path (see ANCHORS). */
export type Anchor = (typeof ANCHORS)[number];

/** What was found for one pod: its anchors, side measurements and counts. */
export interface PodTrace {
  name: string;
  anchors: Record<Anchor, number>;
  /** Off the path: store acknowledgements, replies nobody on the path waits for, containerd's own time per call. */
  side: Record<string, number>;
  /** Per pod: CRI calls by method, bus requests and writes by identity, events. */
  counts: Record<string, number>;
}

/** Inputs of podTrace for one pod. */
export interface PodTraceInput {
  name: string;
  /** When the client sent the apply and saw Running (epoch ms). */
  appliedAt: number;
  runningAt: number;
  tap: TapRecord[];
  calls: CriCall[];
  spans: ContainerdSpan[];
  processes: Processes;
  consumers: Consumers;
  /** Process (nuid prefix) -> identity; see processIdentities. */
  identities: Map<string, string>;
}

/** How long after the client saw Running the window of a pod reaches (the tracer may read late; the echo below). */
export const AFTER_RUNNING_MS = 100;

const phaseOf = (r: TapRecord | undefined): string | undefined =>
  (parseJson(r?.data) as { status?: { phase?: string } } | undefined)?.status?.phase;

/**
 * Finds the anchors of one pod (default namespace) in the records. Throws naming the first anchor
 * it could not find (the records are then incomplete: a tracer dropped messages, or mk took a path
 * this reading does not know, such as a Conflict retry).
 */
export function podTrace(inp: PodTraceInput): PodTrace {
  const { name, tap, processes: p, consumers, identities } = inp;
  const subject = `$KV.${OBJECTS}.pods.default.${name}`;
  const win = tap.filter((r) => r.t >= inp.appliedAt - 1 && r.t <= inp.runningAt + AFTER_RUNNING_MS);
  const need = (what: string, v: number | undefined): number => {
    if (v === undefined || Number.isNaN(v)) throw new Error(`trace of ${name}: no ${what} found`);
    return v;
  };
  const who = (r: TapRecord) => identityOf(r.reply, identities);
  const first = (pred: (r: TapRecord) => boolean, after = -Infinity) => win.find((r) => r.t >= after && pred(r));
  // By position after `rec`: two records may carry the same time.
  const next = (rec: TapRecord, pred: (r: TapRecord) => boolean) => win.slice(win.indexOf(rec) + 1).find(pred);
  const reply = (req: TapRecord | undefined) => (req?.reply ? win.find((r) => r.subject === req.reply && r.t >= req.t) : undefined);
  const seqOf = (ack: TapRecord | undefined) => (parseJson(ack?.data) as { seq?: number } | undefined)?.seq;
  const isGet = (id: string, subj: string) => (r: TapRecord) =>
    r.subject === `$JS.API.STREAM.MSG.GET.KV_${OBJECTS}` && who(r) === id && (parseJson(r.data) as { last_by_subj?: string } | undefined)?.last_by_subj === subj;
  // A write is the publish itself; the same subject delivered to a consumer has a $JS.ACK reply.
  const isWrite = (id: string, subj: string) => (r: TapRecord) => r.subject === subj && !deliveryOf(r.reply) && who(r) === id;
  const delivered = (subj: string, seq: number, to: (consumer: string) => boolean) => (r: TapRecord) => {
    const d = deliveryOf(r.reply);
    return r.subject === subj && !!d && d.seq === seq && to(d.consumer);
  };

  // The control plane: the api creates the pod, the pod actor asks the scheduler, which binds.
  const applyReq = first((r) => r.subject === 'mk.api.apply' && (parseJson(r.data) as { object?: { metadata?: { name?: string } } } | undefined)?.object?.metadata?.name === name);
  const applyAt = need('apply request on the bus', applyReq?.t);
  const apiRead = first((r) => r.subject === `$JS.API.STREAM.MSG.GET.KV_${OBJECTS}` && who(r) === p.controlPlane, applyAt);
  const create = first((r) => isWrite(p.controlPlane, subject)(r) && r.headers?.[EXPECTED_SEQ] === '0', applyAt);
  const kvCreate = need('KV create', create?.t);
  const createAck = reply(create);
  const createSeq = need('KV create acknowledgement', seqOf(createAck));
  const podWatch = first(delivered(subject, createSeq, (c) => consumers.podWatches.has(c)), kvCreate);
  const podWatchAt = need('pods watch delivery of the create', podWatch?.t);
  const podRead = first(isGet(p.controlPlane, subject), podWatchAt);
  const schedRead = podRead ? next(podRead, isGet(p.controlPlane, subject)) : undefined;
  const bind = first((r) => isWrite(p.controlPlane, subject)(r) && r.headers?.[EXPECTED_SEQ] === String(createSeq), kvCreate);
  const bindAt = need('bind write', bind?.t);
  const bindAck = reply(bind);
  const bindSeq = need('bind acknowledgement', seqOf(bindAck));
  // The scheduler waits for the bind to be stored, then answers the pod actor, which writes the
  // node's view of the pod from that answer (the bound pod), without reading it again.
  const bindStored = need('bind acknowledgement', bindAck?.t);
  const isView = (r: TapRecord) => r.subject.startsWith(`$KV.${VIEWS}.`) && r.subject.endsWith(`.default.${name}`);
  // Before the node's first word about the pod: the status write sets off a second view write.
  const nodeSpoke = first((r) => POD_STATUS.test(r.subject) && who(r) === p.node && (parseJson(r.data) as { name?: string } | undefined)?.name === name, bindAt);
  const view = first((r) => isView(r) && !deliveryOf(r.reply) && who(r) === p.controlPlane && r.t < (nodeSpoke?.t ?? Infinity), bindAt);
  const viewAt = need('write of the node\'s view', view?.t);
  const viewAck = reply(view);
  const viewSeq = need('view write acknowledgement', seqOf(viewAck));
  const nodeWatch = need('node agent watch delivery', first((r) => r.subject === view!.subject
    && delivered(view!.subject, viewSeq, (c) => identities.get(consumerProcess(c) ?? '') === p.node)(r), viewAt)?.t);

  // The node agent: a fresh pod actor reads its snapshot and journal (nact persistence), then
  // drives CRI, then asks the control plane to write the status.
  const statusReq = first((r) => POD_STATUS.test(r.subject) && who(r) === p.node
    && (parseJson(r.data) as { name?: string } | undefined)?.name === name && phaseOf(r) === 'Running', nodeWatch);
  const statusReqAt = need('pod-status request (Running)', statusReq?.t);
  const calls = inp.calls.filter((c) => c.method !== 'Version' && c.start >= inp.appliedAt && c.start <= statusReqAt + 0.5);
  const firstCri = need('first CRI call', calls[0]?.start);
  const call = (method: string) => calls.find((c) => c.method === method);
  const run = call('RunPodSandbox');
  // Read up to the first CRI call that does work: the log's 1 ms stamps may put the first
  // observation a little before a reply the tracer saw late.
  const recovery = win.filter((r) => r.t >= nodeWatch && r.t <= (run?.start ?? statusReqAt) && who(r) === p.node
    && (r.subject === '$JS.API.STREAM.MSG.GET.KV_mk-snapshots' || r.subject === '$JS.API.STREAM.MSG.GET.MK_JOURNAL'));
  const recovered = recovery.length > 0 ? reply(recovery[recovery.length - 1])?.t ?? nodeWatch : nodeWatch;
  const create2 = call('CreateContainer');
  const start = call('StartContainer');

  // The control plane writes the status; the watch publisher tells the client.
  const statusRead = first(isGet(p.controlPlane, subject), statusReqAt);
  const statusPub = first((r) => isWrite(p.controlPlane, subject)(r) && phaseOf(r) === 'Running', statusReqAt);
  const statusAt = need('status write', statusPub?.t);
  const statusAck = reply(statusPub);
  const watchPub = first((r) => r.subject === `mk.watch.pods.default.${name}`
    && (parseJson(r.data) as { object?: { status?: { phase?: string } } } | undefined)?.object?.status?.phase === 'Running', statusAt);

  const anchors: Record<Anchor, number> = {
    applySent: inp.appliedAt,
    applyAtServer: applyAt,
    apiFirstRead: need('api read', apiRead?.t),
    kvCreate,
    podWatch: podWatchAt,
    podActorRead: need('pod actor read', podRead?.t),
    schedulerRead: need('scheduler read', schedRead?.t),
    bindWrite: bindAt,
    bindStored,
    viewWrite: viewAt,
    nodeWatch,
    podActorRecovered: recovered,
    firstCriCall: firstCri,
    runSandboxStart: need('RunPodSandbox', run?.start),
    runSandboxEnd: need('RunPodSandbox end', run?.end),
    createStart: need('CreateContainer', create2?.start),
    createEnd: need('CreateContainer end', create2?.end),
    startStart: need('StartContainer', start?.start),
    startEnd: need('StartContainer end', start?.end),
    statusRequest: statusReqAt,
    statusRead: need('control plane read for the status', statusRead?.t),
    statusWrite: statusAt,
    // Seen by the tracer; the client may have it first.
    watchPublished: Math.min(need('mk.watch publication of Running', watchPub?.t), inp.runningAt),
    runningSeen: inp.runningAt,
  };

  const side: Record<string, number> = {};
  side.kvCreateAck = need('create ack', createAck?.t) - kvCreate;
  const applyReply = reply(applyReq);
  if (applyReply) side.applyReply = applyReply.t - applyAt;
  // Off the path now: the bind's delivery to the pods watches, which sets off another reconcile
  // of the control plane's pod actor (it finds the view already written).
  const bindWatch = first(delivered(subject, bindSeq, (c) => consumers.podWatches.has(c)), bindAt);
  if (bindWatch) side.bindWatch = bindWatch.t - bindAt;
  side.viewAck = need('view ack', viewAck?.t) - viewAt;
  if (statusAck) side.statusAck = statusAck.t - statusAt;
  const statusReply = reply(statusReq);
  if (statusReply) side.statusReply = statusReply.t - statusReqAt;
  const wpDelivery = first(delivered(subject, createSeq, (c) => consumers.watchPublisher.has(c)), kvCreate);
  if (wpDelivery) side.createToWatchPublisher = wpDelivery.t - kvCreate;
  const sb = inp.spans.find((s) => s.op === 'RunPodSandbox' && s.subject === name && s.start >= anchors.runSandboxStart - 5);
  if (sb?.end !== undefined) side.containerdRunPodSandbox = sb.end - sb.start;
  const ct = sb?.result ? inp.spans.find((s) => s.op === 'CreateContainer' && s.subject === sb.result) : undefined;
  if (ct?.end !== undefined) side.containerdCreateContainer = ct.end - ct.start;
  const st = ct?.result ? inp.spans.find((s) => s.op === 'StartContainer' && s.subject === ct.result) : undefined;
  if (st?.end !== undefined) side.containerdStartContainer = st.end - st.start;

  const counts: Record<string, number> = {};
  const inc = (k: string) => { counts[k] = (counts[k] ?? 0) + 1; };
  for (const c of calls) inc(`cri ${c.method}`);
  const label = (id: string | undefined) => (id === p.controlPlane ? 'control plane' : id === p.node ? 'node agent' : undefined);
  const tally = (recs: TapRecord[], prefix: string) => {
    for (const r of recs) {
      if (deliveryOf(r.reply)) continue;
      const whom = label(who(r));
      if (!whom) continue;
      if (r.subject.startsWith('$JS.API.')) inc(`${prefix}${whom}: JetStream API requests`);
      else if (r.subject === subject) inc(`${prefix}${whom}: writes of the pod`);
      else if (isView(r)) inc(`${prefix}${whom}: writes of the node's view`);
      else if (r.subject.startsWith('mk.events.')) inc(`${prefix}${whom}: events recorded`);
      else if (r.subject.startsWith('mk.api.node.')) inc(`${prefix}${whom}: node api requests`);
    }
  };
  tally(win.filter((r) => r.t >= applyAt && r.t <= anchors.watchPublished), '');
  // After Running, within the window: what the status write sets off (the view carries the
  // status, so the node is sent the pod again and looks at the runtime once more).
  tally(win.filter((r) => r.t > anchors.watchPublished), 'after Running: ');
  for (const c of inp.calls) {
    if (c.method !== 'Version' && c.start > statusReqAt + 0.5 && c.start <= inp.runningAt + AFTER_RUNNING_MS) inc(`after Running: cri ${c.method}`);
  }
  return { name, anchors, side, counts };
}
