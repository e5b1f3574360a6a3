import {
  classifyConsumers, consumerProcess, deliveryOf, identifyProcesses, identityOf, inboxOf, parseContainerdLog, parseGrpcTrace,
  parseRfc3339, podTrace, processIdentities, type Consumers,
} from './trace-parse';
import {
  ack, CLIENT, consumer, CP, CTRD, GRPC, IDS, inbox, input, NODE, NODE_PODS, objAck, PODS_SUP, records, SUBJ, T, WATCH_PUB,
} from './trace-parse-fixture';

describe('trace readers', () => {
  it('reads CRI calls from a grpc-js trace, at the middle of their millisecond', () => {
    const calls = parseGrpcTrace(GRPC);
    expect(calls).toHaveLength(15);
    expect(calls.find((c) => c.method === 'RunPodSandbox')).toEqual({ n: 4, method: 'RunPodSandbox', start: T + 16.5, end: T + 100.5, code: 0 });
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

  it('tells identities, processes and deliveries apart by inbox prefixes and consumer names', () => {
    expect(inboxOf(inbox(NODE, 'x'))).toEqual({ identity: 'node-vm', process: NODE });
    expect(inboxOf('mk.api.apply')).toBeUndefined();
    expect(deliveryOf(objAck(PODS_SUP, 7))).toEqual({ stream: 'KV_mk-objects', consumer: PODS_SUP, seq: 7 });
    expect(deliveryOf(inbox(CP, 'x'))).toBeUndefined();
    // Both shapes nats.js gives ordered consumers: `<nuid>_<n>` and `oc_<nuid>_<n>`.
    expect(consumerProcess(NODE_PODS)).toBe(NODE);
    expect(consumerProcess(`oc_${NODE_PODS}`)).toBe(NODE);
    expect(consumerProcess('durable-name')).toBeUndefined();
    const ids = processIdentities(records());
    expect(Object.fromEntries(ids)).toEqual(IDS);
    expect(identityOf(ack('KV_mk-node-pods', NODE_PODS, 3), ids)).toBe('node-vm');
    expect(identityOf(inbox(CLIENT, 'x'), ids)).toBe('admin');
    expect(identityOf(objAck(consumer('UNKNOWNaaaaa', 'x'), 1), ids)).toBeUndefined();
  });

  it('identifies the client, the control plane and the node from one pod\'s messages', () => {
    expect(identifyProcesses(records(), 'web')).toEqual({ client: 'admin', controlPlane: 'control-plane', node: 'node-vm' });
    const noStatus = records().filter((r) => !r.subject.endsWith('.pod-status'));
    expect(() => identifyProcesses(noStatus, 'web')).toThrow('client admin, control plane control-plane, node undefined');
  });

  it('sorts the control plane\'s consumers by their filters', () => {
    const into: Consumers = { watchPublisher: new Set(), podWatches: new Set() };
    classifyConsumers([
      { name: WATCH_PUB, config: { filter_subject: '$KV.mk-objects.>' } },
      { name: PODS_SUP, config: { filter_subjects: ['$KV.mk-objects.pods.>'] } },
      { name: consumer(CP, 'nodes'), config: { filter_subjects: ['$KV.mk-objects.nodes.>'] } },
      // Another process's consumer on the same filter is not the control plane's.
      { name: consumer(CLIENT, 'pods'), config: { filter_subjects: ['$KV.mk-objects.pods.>'] } },
    ], { client: 'admin', controlPlane: 'control-plane', node: 'node-vm' }, processIdentities(records()), into);
    expect([...into.watchPublisher]).toEqual([WATCH_PUB]);
    expect([...into.podWatches]).toEqual([PODS_SUP]);
  });
});

describe('podTrace', () => {
  it('finds every anchor of the path from apply to Running', () => {
    const t = podTrace(input(records()));
    const rel = Object.fromEntries(Object.entries(t.anchors).map(([k, v]) => [k, Math.round((v - T) * 100) / 100]));
    expect(rel).toEqual({
      applySent: 0, applyAtServer: 0.4, apiFirstRead: 1.5, kvCreate: 2.8, podWatch: 3, podActorRead: 5, schedulerRead: 6,
      bindWrite: 7, bindStored: 7.1, viewWrite: 8.5, nodeWatch: 8.8, podActorRecovered: 12.4, firstCriCall: 13.5,
      runSandboxStart: 16.5, runSandboxEnd: 100.5, createStart: 105.5, createEnd: 114.5, startStart: 114.5, startEnd: 166.5,
      statusRequest: 174, statusRead: 174.5, statusWrite: 176, watchPublished: 177, runningSeen: 177.3,
    });
  });

  it('measures what is off the path and counts calls, requests and writes', () => {
    const t = podTrace(input(records()));
    expect(t.side.kvCreateAck).toBeCloseTo(0.1, 3);
    expect(t.side.applyReply).toBeCloseTo(3.6, 3);
    expect(t.side.viewAck).toBeCloseTo(0.1, 3);
    expect(t.side.bindWatch).toBeCloseTo(0.4, 3);
    expect(t.side.bindAck).toBeUndefined();
    expect(t.side.statusReply).toBeCloseTo(3.5, 3);
    expect(t.side.createToWatchPublisher).toBeCloseTo(0.25, 3);
    expect(t.side.containerdRunPodSandbox).toBeCloseTo(81.5, 3);
    expect(t.side.containerdCreateContainer).toBeCloseTo(7, 3);
    expect(t.side.containerdStartContainer).toBeCloseTo(50.5, 3);
    expect(t.counts).toEqual({
      'cri ListPodSandbox': 3, 'cri ListContainers': 3, 'cri ImageStatus': 1, 'cri RunPodSandbox': 1, 'cri PodSandboxStatus': 1,
      'cri CreateContainer': 1, 'cri StartContainer': 1, 'cri ContainerStatus': 1,
      'control plane: JetStream API requests': 6, 'control plane: writes of the pod': 3, 'control plane: events recorded': 1,
      "control plane: writes of the node's view": 1,
      'node agent: JetStream API requests': 2, 'node agent: events recorded': 1, 'node agent: node api requests': 1,
      'after Running: control plane: JetStream API requests': 1, "after Running: control plane: writes of the node's view": 1,
      'after Running: cri ListPodSandbox': 1, 'after Running: cri ListContainers': 1,
    });
  });

  it('never puts the publication after the client saw it (the tracer may read late)', () => {
    const t = podTrace(input(records({ watchAt: 180 })));
    expect(t.anchors.watchPublished).toBe(T + 177.3);
  });

  it('names the first anchor it cannot find', () => {
    expect(() => podTrace(input(records({ bind: false })))).toThrow('trace of web: no bind write found');
    const noView = records().filter((r) => !r.subject.startsWith('$KV.mk-node-pods.'));
    expect(() => podTrace(input(noView))).toThrow("trace of web: no write of the node's view found");
    // The write the status sets off, after Running, is not the one that started the pod.
    const lateViewOnly = records().filter((r) => r.reply !== inbox(CP, 'view'));
    expect(() => podTrace(input(lateViewOnly))).toThrow("trace of web: no write of the node's view found");
  });

  it('takes no write of another identity for the control plane\'s', () => {
    // The same create, sent from the node's inbox, is not the api's.
    const forged = records().map((r) => (r.subject === SUBJ && r.reply === inbox(CP, 'create') ? { ...r, reply: inbox(NODE, 'create') } : r));
    expect(() => podTrace(input(forged))).toThrow('trace of web: no KV create found');
  });
});
