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
 * The process a bus message came from, by the nuid prefix nats.js gives every inbox and consumer
 * name of one process (`_INBOX.<nuid>...`, `$JS.ACK.<stream>.<nuid>_<n>...`): its first 12
 * characters. Undefined for subjects without one.
 */
export function processOf(subject: string | undefined): string | undefined {
  if (!subject) return undefined;
  const inbox = /^_INBOX\.([A-Za-z0-9]{12})/.exec(subject);
  if (inbox) return inbox[1];
  const ack = /^\$JS\.ACK\.[^.]+\.([A-Za-z0-9]{12})/.exec(subject);
  return ack?.[1];
}

/** The stream sequence and consumer of a JetStream delivery (its `$JS.ACK...` reply subject). */
export function deliveryOf(reply: string | undefined): { consumer: string; seq: number } | undefined {
  const m = /^\$JS\.ACK\.[^.]+\.([^.]+)\.\d+\.(\d+)\./.exec(reply ?? '');
  return m ? { consumer: m[1], seq: Number(m[2]) } : undefined;
}

/** Which consumer of the objects bucket does what, from their filters. */
export interface Consumers {
  /** The control plane's watch publisher (filter: every key). */
  watchPublisher: Set<string>;
  /** The control plane's pods supervisor. */
  podsSupervisor: Set<string>;
  /** The node agent's pod sync. */
  nodePods: Set<string>;
}

/** The processes (nuid prefixes) the trace tells apart. */
export interface Processes { client: string; controlPlane: string; node: string }

/**
 * The moments of one pod's path from apply to Running, in epoch ms, in path order. Each step of
 * the trace is the time between two consecutive anchors, so the steps add up to the total.
 */
export const ANCHORS = [
  'applySent', 'applyAtServer', 'apiFirstRead', 'kvCreate', 'supervisorWatch', 'podActorRead', 'schedulerRead',
  'bindWrite', 'nodeWatch', 'podActorRecovered', 'firstCriCall', 'runSandboxStart', 'runSandboxEnd',
  'createStart', 'createEnd', 'startStart', 'startEnd', 'statusRead', 'statusWrite', 'watchPublished', 'runningSeen',
] as const;
/** One moment of the path (see ANCHORS). */
export type Anchor = (typeof ANCHORS)[number];

/** What was found for one pod: its anchors, side measurements and counts. */
export interface PodTrace {
  name: string;
  anchors: Record<Anchor, number>;
  /** Off the path: store acknowledgements, the apply reply, containerd's own time per call. */
  side: Record<string, number>;
  /** Per pod: CRI calls by method, bus requests by process, writes of the pod's key, events. */
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
}

const KV_PREFIX = '$KV.mk-objects.';
const EXPECTED_SEQ = 'Nats-Expected-Last-Subject-Sequence';

function parseJson(s: string | undefined): unknown {
  try { return s ? JSON.parse(s) : undefined; } catch { return undefined; }
}

/**
 * Finds the anchors of one pod (default namespace) in the records. Throws naming the first anchor
 * it could not find (the records are then incomplete: a tracer dropped messages, or mk took a path
 * this reading does not know, such as a Conflict retry).
 */
export function podTrace(inp: PodTraceInput): PodTrace {
  const { name, tap, processes: p, consumers } = inp;
  const key = `pods.default.${name}`;
  const subject = KV_PREFIX + key;
  // The tracer's connection may see a message a little after the client's does (both are
  // readers of the same server): the window reaches past the client's Running.
  const win = tap.filter((r) => r.t >= inp.appliedAt - 1 && r.t <= inp.runningAt + 100);
  const need = (what: Anchor | string, v: number | undefined): number => {
    if (v === undefined || Number.isNaN(v)) throw new Error(`trace of ${name}: no ${what} found`);
    return v;
  };
  const first = (pred: (r: TapRecord) => boolean, after = -Infinity) => win.find((r) => r.t >= after && pred(r));
  const reply = (req: TapRecord | undefined) => (req?.reply ? win.find((r) => r.subject === req.reply && r.t >= req.t) : undefined);
  const seqOf = (ack: TapRecord | undefined) => (parseJson(ack?.data) as { seq?: number } | undefined)?.seq;
  const isGet = (proc: string, subj: string) => (r: TapRecord) =>
    r.subject === '$JS.API.STREAM.MSG.GET.KV_mk-objects' && processOf(r.reply) === proc && (parseJson(r.data) as { last_by_subj?: string } | undefined)?.last_by_subj === subj;

  const applyReq = first((r) => r.subject === 'mk.api.apply' && (parseJson(r.data) as { object?: { metadata?: { name?: string } } } | undefined)?.object?.metadata?.name === name);
  const applyAt = need('apply request on the bus', applyReq?.t);
  const apiRead = first((r) => r.subject.startsWith('$JS.API.STREAM.MSG.GET.KV_mk-objects') && processOf(r.reply) === p.controlPlane, applyAt);
  // A write is the publish itself; the same subject delivered to a consumer has a $JS.ACK reply.
  const isWrite = (proc: string) => (r: TapRecord) => r.subject === subject && !deliveryOf(r.reply) && processOf(r.reply) === proc;
  const create = first((r) => isWrite(p.controlPlane)(r) && r.headers?.[EXPECTED_SEQ] === '0', applyAt);
  const kvCreate = need('KV create', create?.t);
  const createAck = reply(create);
  const createSeq = need('KV create acknowledgement', seqOf(createAck));
  const delivered = (set: Set<string>, seq: number) =>
    first((r) => { const d = deliveryOf(r.reply); return r.subject === subject && !!d && d.seq === seq && set.has(d.consumer); });
  const supWatch = need('pods supervisor watch delivery', delivered(consumers.podsSupervisor, createSeq)?.t);
  const podRead = first(isGet(p.controlPlane, subject), supWatch);
  // The next such read (by position: two records may carry the same time).
  const schedRead = podRead ? win.slice(win.indexOf(podRead) + 1).find(isGet(p.controlPlane, subject)) : undefined;
  const bind = first((r) => isWrite(p.controlPlane)(r) && r.headers?.[EXPECTED_SEQ] === String(createSeq), kvCreate);
  const bindAt = need('bind write', bind?.t);
  const bindAck = reply(bind);
  const bindSeq = need('bind acknowledgement', seqOf(bindAck));
  const nodeWatch = need('node agent watch delivery', delivered(consumers.nodePods, bindSeq)?.t);
  // A fresh pod actor reads its snapshot and journal (nact persistence) before it reconciles.
  const recovery = win.filter((r) => r.t >= nodeWatch && processOf(r.reply) === p.node
    && (r.subject === '$JS.API.STREAM.MSG.GET.KV_mk-snapshots' || r.subject === '$JS.API.STREAM.MSG.GET.MK_JOURNAL'));
  const recovered = recovery.length > 0 ? reply(recovery[recovery.length - 1])?.t ?? nodeWatch : nodeWatch;
  const statusRead = need('status read', first(isGet(p.node, subject), nodeWatch)?.t);
  const statusPub = win.find((r) => r.t >= statusRead && isWrite(p.node)(r)
    && (parseJson(r.data) as { status?: { phase?: string } } | undefined)?.status?.phase === 'Running');
  const statusAt = need('status write', statusPub?.t);
  const statusAck = reply(statusPub);
  const watchPub = first((r) => r.subject === `mk.watch.${key}` && (parseJson(r.data) as { object?: { status?: { phase?: string } } } | undefined)?.object?.status?.phase === 'Running', statusAt);

  // The node agent's CRI calls for this pod: the only pod on the node, so every call between the
  // apply and its status read is for it (Version is the heartbeat's).
  const calls = inp.calls.filter((c) => c.method !== 'Version' && c.start >= inp.appliedAt && c.start <= statusRead + 0.5);
  const call = (method: string) => calls.find((c) => c.method === method);
  const run = call('RunPodSandbox');
  const create2 = call('CreateContainer');
  const start = call('StartContainer');

  const anchors: Record<Anchor, number> = {
    applySent: inp.appliedAt,
    applyAtServer: applyAt,
    apiFirstRead: need('api read', apiRead?.t),
    kvCreate,
    supervisorWatch: supWatch,
    podActorRead: need('pod actor read', podRead?.t),
    schedulerRead: need('scheduler read', schedRead?.t),
    bindWrite: bindAt,
    nodeWatch,
    podActorRecovered: recovered,
    firstCriCall: need('first CRI call', calls[0]?.start),
    runSandboxStart: need('RunPodSandbox', run?.start),
    runSandboxEnd: need('RunPodSandbox end', run?.end),
    createStart: need('CreateContainer', create2?.start),
    createEnd: need('CreateContainer end', create2?.end),
    startStart: need('StartContainer', start?.start),
    startEnd: need('StartContainer end', start?.end),
    statusRead,
    statusWrite: statusAt,
    // Seen by the tracer; the client may have it first.
    watchPublished: Math.min(need('mk.watch publication of Running', watchPub?.t), inp.runningAt),
    runningSeen: inp.runningAt,
  };

  const side: Record<string, number> = {};
  side.kvCreateAck = need('create ack', createAck?.t) - kvCreate;
  const applyReply = reply(applyReq);
  if (applyReply) side.applyReply = applyReply.t - applyAt;
  side.bindAck = need('bind ack', bindAck?.t) - bindAt;
  if (statusAck) side.statusAck = statusAck.t - statusAt;
  const wpDelivery = delivered(consumers.watchPublisher, createSeq);
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
  const path = win.filter((r) => r.t >= applyAt && r.t <= anchors.watchPublished);
  for (const r of path) {
    const proc = processOf(r.reply);
    const who = proc === p.controlPlane ? 'control plane' : proc === p.node ? 'node agent' : undefined;
    if (!who) continue;
    if (r.subject.startsWith('$JS.API.')) inc(`${who}: JetStream API requests`);
    else if (r.subject === subject && !deliveryOf(r.reply)) inc(`${who}: writes of the pod`);
    else if (r.subject.startsWith('mk.events.')) inc(`${who}: events recorded`);
  }
  return { name, anchors, side, counts };
}
