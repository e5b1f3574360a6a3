import {
  deliveryOf, parseContainerdLog, parseGrpcTrace, parseRfc3339, podTrace, processOf,
  type Consumers, type PodTraceInput, type TapRecord,
} from './trace-parse';

// Records shaped like those of a real trace, at made-up times (ms after T).
const T = Date.parse('2026-11-29T21:15:45.000Z');
const CLIENT = 'CLIENTaaaaaa';
const CP = 'CTRLPLANEaaa';
const NODE = 'NODEAGENTaaa';
const SUBJ = '$KV.mk-objects.pods.default.web';
const inbox = (proc: string, tok: string) => `_INBOX.${proc}bbbbbbbbbb.${tok}`;
const consumer = (proc: string, tok: string) => `${proc}${tok.padEnd(10, 'c')}_1`;
const ack = (c: string, seq: number) => `$JS.ACK.KV_mk-objects.${c}.1.${seq}.1.1795986945.0`;
const PODS_SUP = consumer(CP, 'pods');
const WATCH_PUB = consumer(CP, 'all');
const NODE_PODS = consumer(NODE, 'pods');
const consumers: Consumers = { watchPublisher: new Set([WATCH_PUB]), podsSupervisor: new Set([PODS_SUP]), nodePods: new Set([NODE_PODS]) };
const get = (t: number, proc: string, tok: string, subj: string): TapRecord =>
  ({ t: T + t, subject: '$JS.API.STREAM.MSG.GET.KV_mk-objects', reply: inbox(proc, tok), data: JSON.stringify({ last_by_subj: subj }) });
const pod = (extra: object) => JSON.stringify({ kind: 'Pod', metadata: { name: 'web' }, ...extra });

function records(opts: { bind?: boolean; watchAt?: number } = {}): TapRecord[] {
  const r: TapRecord[] = [
    { t: T + 0.4, subject: 'mk.api.apply', reply: inbox(CLIENT, 'apply'), data: JSON.stringify({ object: { metadata: { name: 'web' } } }) },
    get(1.5, CP, 'g1', '$KV.mk-objects.namespaces._cluster.default'),
    get(2.0, CP, 'g2', SUBJ),
    { t: T + 2.8, subject: SUBJ, reply: inbox(CP, 'create'), headers: { 'Nats-Expected-Last-Subject-Sequence': '0' }, data: pod({}) },
    { t: T + 2.9, subject: inbox(CP, 'create'), data: '{"stream":"KV_mk-objects", "seq":7}' },
    { t: T + 3.0, subject: SUBJ, reply: ack(PODS_SUP, 7), headers: { 'Nats-Expected-Last-Subject-Sequence': '0' }, data: pod({}) },
    { t: T + 3.05, subject: SUBJ, reply: ack(WATCH_PUB, 7), headers: { 'Nats-Expected-Last-Subject-Sequence': '0' }, data: pod({}) },
    { t: T + 3.1, subject: SUBJ, reply: ack(NODE_PODS, 7), headers: { 'Nats-Expected-Last-Subject-Sequence': '0' }, data: pod({}) },
    { t: T + 4.0, subject: inbox(CLIENT, 'apply') },
    get(5.0, CP, 'g3', SUBJ),
    get(6.0, CP, 'g4', SUBJ),
    { t: T + 7.0, subject: '$JS.API.STREAM.INFO.KV_mk-objects', reply: inbox(CP, 'i1') },
    { t: T + 10.2, subject: SUBJ, reply: ack(NODE_PODS, 8), data: pod({ spec: { nodeName: 'vm' } }) },
    { t: T + 11.0, subject: '$JS.API.STREAM.MSG.GET.KV_mk-snapshots', reply: inbox(NODE, 's1'), data: '{}' },
    { t: T + 11.3, subject: inbox(NODE, 's1'), data: '{}' },
    { t: T + 12.0, subject: '$JS.API.STREAM.MSG.GET.MK_JOURNAL', reply: inbox(NODE, 'j1'), data: '{}' },
    { t: T + 12.4, subject: inbox(NODE, 'j1'), data: '{}' },
    { t: T + 120, subject: 'mk.events.default.Pod', reply: inbox(NODE, 'e1') },
    get(175, NODE, 'g5', SUBJ),
    { t: T + 176, subject: SUBJ, reply: inbox(NODE, 'status'), data: pod({ status: { phase: 'Running' } }) },
    { t: T + 176.1, subject: inbox(NODE, 'status'), data: '{"stream":"KV_mk-objects", "seq":9}' },
    { t: T + (opts.watchAt ?? 177), subject: 'mk.watch.pods.default.web', data: JSON.stringify({ type: 'MODIFIED', object: { status: { phase: 'Running' } } }) },
  ];
  if (opts.bind !== false) {
    r.push({ t: T + 10.0, subject: SUBJ, reply: inbox(CP, 'bind'), headers: { 'Nats-Expected-Last-Subject-Sequence': '7' }, data: pod({ spec: { nodeName: 'vm' } }) });
    r.push({ t: T + 10.1, subject: inbox(CP, 'bind'), data: '{"stream":"KV_mk-objects", "seq":8}' });
  }
  return r.sort((a, b) => a.t - b.t);
}

const iso = (ms: number) => new Date(T + ms).toISOString();
const GRPC = [
  [13, 1, 'RuntimeService/ListPodSandbox', 15], [13, 2, 'RuntimeService/ListContainers', 15], [16, 3, 'ImageService/ImageStatus', 17],
  [17, 4, 'RuntimeService/RunPodSandbox', 100], [101, 5, 'RuntimeService/ListPodSandbox', 104], [105, 6, 'RuntimeService/CreateContainer', 114],
  [114, 7, 'RuntimeService/StartContainer', 166], [167, 8, 'RuntimeService/ListPodSandbox', 170], [168, 9, 'RuntimeService/Version', 169],
].flatMap(([start, n, method, end]) => [
  `D ${iso(start as number)} | v1.14.7 123 | channel | (5) unix:///x/containerd.sock createResolvingCall [${n}] method="/runtime.v1.${method}", deadline=${iso(30_000)}`,
  `D ${iso(start as number)} | v1.14.7 123 | resolving_call | [${n}] Created`,
  `{"level":20,"time":${T + (start as number)},"msg":"reconcile"}`,
  `D ${iso(end as number)} | v1.14.7 123 | resolving_call | [${n}] ended with status: code=0 details=""`,
]).join('\n');

const CTRD = [
  'time="2026-11-29T21:15:45.018250000Z" level=info msg="RunPodSandbox for &PodSandboxMetadata{Name:web,Uid:u1,Namespace:default,Attempt:0,}"',
  'time="2026-11-29T21:15:45.020000000Z" level=info msg="RunPodSandbox for &PodSandboxMetadata{Name:other,Uid:u2,Namespace:default,Attempt:0,}"',
  'time="2026-11-29T21:15:45.099750000Z" level=info msg="RunPodSandbox for &PodSandboxMetadata{Name:web,Uid:u1,Namespace:default,Attempt:0,} returns sandbox id \\"sb1\\""',
  'time="2026-11-29T21:15:45.106000000Z" level=info msg="CreateContainer within sandbox \\"sb1\\" for container &ContainerMetadata{Name:main,Attempt:0,}"',
  'time="2026-11-29T21:15:45.113000000Z" level=info msg="CreateContainer within sandbox \\"sb1\\" for &ContainerMetadata{Name:main,Attempt:0,} returns container id \\"ct1\\""',
  'time="2026-11-29T21:15:45.115000000Z" level=info msg="StartContainer for \\"ct1\\""',
  'time="2026-11-29T21:15:45.165500000Z" level=info msg="StartContainer for \\"ct1\\" returns successfully"',
  'time="2026-11-29T21:15:45.170000000Z" level=warning msg="something else"',
].join('\n');

function input(tap: TapRecord[]): PodTraceInput {
  return {
    name: 'web', appliedAt: T, runningAt: T + 177.3, tap, calls: parseGrpcTrace(GRPC), spans: parseContainerdLog(CTRD),
    processes: { client: CLIENT, controlPlane: CP, node: NODE }, consumers,
  };
}

describe('trace readers', () => {
  it('reads CRI calls from a grpc-js trace, at the middle of their millisecond', () => {
    const calls = parseGrpcTrace(GRPC);
    expect(calls).toHaveLength(9);
    expect(calls.find((c) => c.method === 'RunPodSandbox')).toEqual({ n: 4, method: 'RunPodSandbox', start: T + 17.5, end: T + 100.5, code: 0 });
  });

  it('reads containerd spans with their sub-millisecond times and results', () => {
    const spans = parseContainerdLog(CTRD);
    const run = spans.find((s) => s.subject === 'web')!;
    expect(run.op).toBe('RunPodSandbox');
    expect(run.end! - run.start).toBeCloseTo(81.5, 3);
    expect(run.result).toBe('sb1');
    expect(spans.find((s) => s.subject === 'other')?.end).toBeUndefined();
    expect(spans.find((s) => s.op === 'CreateContainer')).toMatchObject({ subject: 'sb1', result: 'ct1' });
    expect(spans.find((s) => s.op === 'StartContainer')).toMatchObject({ subject: 'ct1' });
    expect(parseRfc3339('2026-11-29T21:15:45.000000001Z')).toBeCloseTo(T + 0.000001, 6);
  });

  it('tells processes and deliveries apart by nuid prefixes and ack subjects', () => {
    expect(processOf(inbox(CP, 'x'))).toBe(CP);
    expect(processOf(ack(NODE_PODS, 3))).toBe(NODE);
    expect(processOf('mk.api.apply')).toBeUndefined();
    expect(deliveryOf(ack(PODS_SUP, 7))).toEqual({ consumer: PODS_SUP, seq: 7 });
    expect(deliveryOf(inbox(CP, 'x'))).toBeUndefined();
  });
});

describe('podTrace', () => {
  it('finds every anchor of the path from apply to Running', () => {
    const t = podTrace(input(records()));
    const rel = Object.fromEntries(Object.entries(t.anchors).map(([k, v]) => [k, Math.round((v - T) * 100) / 100]));
    expect(rel).toEqual({
      applySent: 0, applyAtServer: 0.4, apiFirstRead: 1.5, kvCreate: 2.8, supervisorWatch: 3, podActorRead: 5, schedulerRead: 6,
      bindWrite: 10, nodeWatch: 10.2, podActorRecovered: 12.4, firstCriCall: 13.5, runSandboxStart: 17.5, runSandboxEnd: 100.5,
      createStart: 105.5, createEnd: 114.5, startStart: 114.5, startEnd: 166.5, statusRead: 175, statusWrite: 176,
      watchPublished: 177, runningSeen: 177.3,
    });
  });

  it('measures what is off the path and counts calls, requests and writes', () => {
    const t = podTrace(input(records()));
    expect(t.side.kvCreateAck).toBeCloseTo(0.1, 3);
    expect(t.side.applyReply).toBeCloseTo(3.6, 3);
    expect(t.side.containerdRunPodSandbox).toBeCloseTo(81.5, 3);
    expect(t.side.containerdCreateContainer).toBeCloseTo(7, 3);
    expect(t.side.containerdStartContainer).toBeCloseTo(50.5, 3);
    expect(t.counts).toEqual({
      'cri ListPodSandbox': 3, 'cri ListContainers': 1, 'cri ImageStatus': 1, 'cri RunPodSandbox': 1, 'cri CreateContainer': 1, 'cri StartContainer': 1,
      'control plane: JetStream API requests': 5, 'control plane: writes of the pod': 2,
      'node agent: JetStream API requests': 3, 'node agent: events recorded': 1, 'node agent: writes of the pod': 1,
    });
  });

  it('never puts the publication after the client saw it (the tracer may read late)', () => {
    const t = podTrace(input(records({ watchAt: 180 })));
    expect(t.anchors.watchPublished).toBe(T + 177.3);
  });

  it('names the first anchor it cannot find', () => {
    expect(() => podTrace(input(records({ bind: false })))).toThrow('trace of web: no bind write found');
  });
});
