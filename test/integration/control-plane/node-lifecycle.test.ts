/**
 * Node failure against a real nats-server and control plane, with short configured timeouts: a
 * node that stops heartbeating goes Unknown and is tainted unreachable, its pods are evicted once
 * their (default) tolerations run out and not before, a pod that tolerates the taint for ever
 * stays, the taints go when the node is Ready again, and an eviction deadline survives a
 * control-plane restart because it is counted from the taint's timeAdded.
 */
import { connectBus, ObjectStore, request, type Bus } from '../../../bus';
import { runControlPlane, type ControlPlane } from '../../../actors';
import {
  API, isValidation, nodeApiSubject, objectKey,
  type GetResult, type Lease, type ListResult, type Node, type NodeResult, type Pod, type Taint,
} from '../../../messages';
import { podColumns } from '../../../messages/printing/pod-status';
import { caught, startNatsServer, type NatsServer } from '../../helpers/nats-server';
import { until, waitFor } from '../../helpers/wait';

jest.setTimeout(90_000);

const GRACE_MS = 2000;
const settings = { nodeMonitorGracePeriodMs: GRACE_MS, defaultNotReadyTolerationSeconds: 3, defaultUnreachableTolerationSeconds: 3 };
const status = { capacity: { cpu: '2', memory: '4Gi', pods: '110' }, allocatable: { cpu: '2', memory: '4Gi', pods: '110' } };
const READY = { status: 'True', reason: 'NodeReady', message: 'ok' };

type Ev = { reason: string; message: string; involvedObject: { kind: string; name: string }; source: { component: string } };

describe('node lifecycle', () => {
  let server: NatsServer;
  let cp: ControlPlane | undefined;
  let bus: Bus;
  const beats = new Map<string, NodeJS.Timeout>();

  const nodeApi = <T>(node: string, verb: Parameters<typeof nodeApiSubject>[1], body: unknown) => request<T>(bus, nodeApiSubject(node, verb), body);
  const getNode = async (name: string) => (await request<GetResult>(bus, API.get, { kind: 'nodes', name })).object as Node;
  const getLease = async (name: string) => (await request<GetResult>(bus, API.get, { kind: 'leases', namespace: 'kube-node-lease', name })).object as Lease;
  const getPod = async (name: string) => (await request<GetResult>(bus, API.get, { kind: 'pods', name })).object as Pod;
  const events = async () => (await request<ListResult>(bus, API.list, { kind: 'events' })).items as unknown as Ev[];
  const ready = async (name: string) => (await getNode(name)).status?.conditions?.find((c) => c.type === 'Ready')?.status;
  const noExecute = async (name: string): Promise<Taint | undefined> => (await getNode(name)).spec?.taints?.find((t) => t.effect === 'NoExecute');
  /** Heartbeats `node` every 300 ms, as an agent would, until stopBeating. */
  const beat = (node: string, ready = READY): void => {
    stopBeating(node);
    const tick = () => { nodeApi(node, 'heartbeat', { ready }).catch(() => undefined); };
    tick();
    beats.set(node, setInterval(tick, 300));
  };
  const stopBeating = (node: string): void => { clearInterval(beats.get(node)); beats.delete(node); };
  const bound = (name: string, node: string, tolerations?: unknown[]) => request(bus, API.apply, {
    object: { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }], ...(tolerations ? { tolerations } : {}) } },
  });

  beforeAll(async () => {
    server = await startNatsServer();
    cp = await runControlPlane({ bus: { servers: server.url, name: 'cp-lifecycle' }, settings });
    bus = await connectBus({ servers: server.url, name: 'lifecycle-test' });
  });
  afterAll(async () => {
    for (const n of [...beats.keys()]) stopBeating(n);
    await cp?.stop();
    await bus?.close();
    await server?.stop();
  });

  it('marks a silent node Unknown, taints it, evicts its pods after their tolerationSeconds, and untaints it when it is back', async () => {
    await nodeApi<NodeResult>('n1', 'register', { status, labels: {} });
    beat('n1');
    await waitFor('n1 Ready with a pod CIDR', async () => (await getNode('n1')).spec?.podCIDR && (await ready('n1')) === 'True' && !(await getNode('n1')).spec?.taints);
    await bound('doomed', 'n1');
    await bound('stays', 'n1', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }]);
    expect((await getPod('doomed')).spec.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 3 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 3 },
    ]);

    stopBeating('n1');
    const taint = await waitFor('the unreachable taint', () => noExecute('n1'), 10_000, 100);
    expect(taint).toMatchObject({ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' });
    const node = await getNode('n1');
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown' });
    expect(node.spec?.taints?.map((t) => `${t.key}:${t.effect}`)).toEqual(['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
    const added = Date.parse(taint.timeAdded!);

    const doomed = await waitFor('the eviction of doomed', async () => { const p = await getPod('doomed'); return p.metadata.deletionTimestamp ? p : null; }, 15_000, 100);
    // Not before the 3 s of its toleration (timestamps have second precision).
    expect(Date.parse(doomed.metadata.deletionTimestamp!)).toBeGreaterThanOrEqual(added + 2000);
    expect((await getPod('stays')).metadata.deletionTimestamp).toBeUndefined();
    const evs = await waitFor('the events', async () => {
      const all = await events();
      const marking = all.find((e) => e.reason === 'TaintManagerEviction' && e.involvedObject.name === 'doomed');
      const notReady = all.find((e) => e.reason === 'NodeNotReady' && e.involvedObject.name === 'n1');
      return marking && notReady ? { marking, notReady } : null;
    }, 10_000);
    expect(evs.marking).toMatchObject({ message: 'Marking for deletion Pod default/doomed', source: { component: 'node-controller' } });
    expect(evs.notReady).toMatchObject({ message: 'Node n1 status is now: NodeNotReady', involvedObject: { kind: 'Node' } });

    // Back: Ready again, the taints go; the node finishes the deletion it was asked for.
    beat('n1');
    await waitFor('n1 untainted', async () => (await ready('n1')) === 'True' && !(await getNode('n1')).spec?.taints, 10_000, 100);
    await nodeApi('n1', 'pod-terminated', { namespace: 'default', name: 'doomed', uid: doomed.metadata.uid });
    await until('doomed gone', async () => (await getPod('doomed').then(() => undefined, () => true)));
    expect((await getPod('stays')).metadata.deletionTimestamp).toBeUndefined();
    await waitFor('NodeReady', async () => (await events()).find((e) => e.reason === 'NodeReady' && e.involvedObject.name === 'n1'), 10_000);
  });

  it('taints a node that reports Ready=False not-ready, and evicts from it too', async () => {
    await nodeApi<NodeResult>('n2', 'register', { status, labels: {} });
    beat('n2');
    await waitFor('n2 Ready', async () => (await getNode('n2')).spec?.podCIDR && (await ready('n2')) === 'True' && !(await getNode('n2')).spec?.taints);
    await bound('on-n2', 'n2');
    beat('n2', { status: 'False', reason: 'ContainerRuntimeDown', message: 'containerd is gone' });
    const taint = await waitFor('the not-ready taint', () => noExecute('n2'), 10_000, 100);
    expect(taint.key).toBe('node.kubernetes.io/not-ready');
    await waitFor('the eviction of on-n2', async () => (await getPod('on-n2')).metadata.deletionTimestamp, 15_000, 100);
    beat('n2');
    await waitFor('n2 untainted', async () => !(await getNode('n2')).spec?.taints, 10_000, 100);
  });

  it('marks the pods of an Unknown node not ready, once, and takes the status its agent writes when back', async () => {
    await nodeApi<NodeResult>('n5', 'register', { status, labels: {} });
    beat('n5');
    await waitFor('n5 Ready', async () => (await getNode('n5')).spec?.podCIDR && (await ready('n5')) === 'True' && !(await getNode('n5')).spec?.taints);
    await bound('served', 'n5', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }]);
    const pod = await getPod('served');
    const running = (ok: boolean) => ({
      phase: 'Running',
      conditions: [{ type: 'Ready', status: ok ? 'True' : 'False', lastTransitionTime: new Date().toISOString() }],
      containerStatuses: [{ name: 'c', image: 'busybox', imageID: '', ready: ok, restartCount: 0, state: { running: { startedAt: new Date().toISOString() } }, lastState: {} }],
    });
    const agentWrites = () => nodeApi('n5', 'pod-status', { namespace: 'default', name: 'served', uid: pod.metadata.uid, status: running(true) });
    await agentWrites();
    expect(podColumns(await getPod('served')).ready).toBe('1/1');

    stopBeating('n5');
    const marked = await waitFor('served marked not ready', async () => {
      const p = await getPod('served');
      return p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False' ? p : null;
    }, 10_000, 100);
    expect((await getNode('n5')).status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('Unknown');
    expect(marked.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ reason: 'NodeNotReady', message: 'Node is not ready' });
    expect(marked.status?.phase).toBe('Running');
    expect(podColumns(marked).ready).toBe('0/1');
    const ev = await waitFor('the pod\'s NodeNotReady event', async () => (await events()).find((e) => e.reason === 'NodeNotReady' && e.involvedObject.name === 'served'), 10_000, 100);
    expect(ev).toMatchObject({ message: 'Node is not ready', involvedObject: { kind: 'Pod' }, source: { component: 'node-controller' } });
    // Once: later reconciles of the Unknown node leave the marked pod as it is.
    const rv = marked.metadata.resourceVersion;
    await new Promise((r) => setTimeout(r, 1000));
    expect((await getPod('served')).metadata.resourceVersion).toBe(rv);

    // Back: the agent heartbeats and writes what it sees; the pod is ready again and stays so.
    beat('n5');
    await waitFor('n5 Ready', async () => (await ready('n5')) === 'True', 10_000, 100);
    await agentWrites();
    await new Promise((r) => setTimeout(r, 500));
    const back = await getPod('served');
    expect(back.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(podColumns(back).ready).toBe('1/1');
    await request(bus, API.delete, { kind: 'pods', name: 'served', gracePeriodSeconds: 0 });
  });

  it('takes the pressure conditions a node measured, taints it by them, and refuses malformed ones', async () => {
    await nodeApi<NodeResult>('n4', 'register', { status, labels: {} });
    const pressure = (mem: 'True' | 'False') => [
      { type: 'MemoryPressure', status: mem, reason: mem === 'True' ? 'KubeletHasInsufficientMemory' : 'KubeletHasSufficientMemory', message: 'm' },
      { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'd' },
      { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'p' },
    ];
    const { node: n } = await nodeApi<NodeResult>('n4', 'heartbeat', { ready: READY, conditions: pressure('True') });
    expect(n.status?.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual(['MemoryPressure=True', 'DiskPressure=False', 'PIDPressure=False', 'Ready=True']);
    await waitFor('the memory-pressure taint', async () => (await getNode('n4')).spec?.taints?.some((t) => t.key === 'node.kubernetes.io/memory-pressure' && t.effect === 'NoSchedule'), 10_000, 100);
    await nodeApi<NodeResult>('n4', 'heartbeat', { ready: READY, conditions: pressure('False') });
    await waitFor('no taint on n4', async () => !(await getNode('n4')).spec?.taints, 10_000, 100);
    for (const bad of [{ conditions: 'x' }, { conditions: [{ type: 'Ready', status: 'True', reason: 'r', message: 'm' }] }, { conditions: [{ type: 'MemoryPressure', status: 'Maybe', reason: 'r', message: 'm' }] }]) {
      expect(isValidation(await caught(nodeApi('n4', 'heartbeat', { ready: READY, ...bad })))).toBe(true);
    }
    await request(bus, API.delete, { kind: 'nodes', name: 'n4' });
  });

  it('keeps an eviction deadline across a control-plane restart (counted from timeAdded)', async () => {
    // Far longer than this test: a toleration counted from anything but the taint's recorded
    // timeAdded (the restart, a timer kept in memory) cannot run out while it runs.
    const tolerationSeconds = 3600;
    await nodeApi<NodeResult>('n3', 'register', { status, labels: {} });
    beat('n3');
    await waitFor('n3 Ready', async () => (await getNode('n3')).spec?.podCIDR && (await ready('n3')) === 'True' && !(await getNode('n3')).spec?.taints);
    await bound('patient', 'n3', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds }]);
    stopBeating('n3');
    const taint = await waitFor('the unreachable taint on n3', () => noExecute('n3'), 10_000, 100);
    const n1Since = (await getNode('n1')).status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
    await cp!.stop();
    cp = undefined;
    const stopped = Date.now();
    // While it is down, the taint is made as old as one added before a long outage (its timeAdded
    // a toleration and a minute back): the deadline it sets has passed.
    const store = await ObjectStore.open(bus);
    const key = objectKey('nodes', undefined, 'n3');
    const n3 = (await store.get<Node>(key))!;
    const timeAdded = new Date(Date.parse(taint.timeAdded!) - (tolerationSeconds + 60) * 1000).toISOString();
    const taints = n3.object.spec!.taints!.map((t) => (t.effect === 'NoExecute' ? { ...t, timeAdded } : t));
    await store.update(key, { ...n3.object, spec: { ...n3.object.spec, taints } }, n3.revision);
    // Down for longer than the grace period: n1's heartbeats meanwhile went unanswered.
    await until('the grace period to pass', () => (Date.now() > stopped + GRACE_MS + 500 ? true : undefined), 15_000, 100);
    const restarted = Date.now();
    cp = await runControlPlane({ bus: { servers: server.url, name: 'cp-lifecycle-2' }, settings });
    await waitFor('the eviction of patient', async () => (await getPod('patient')).metadata.deletionTimestamp, 30_000, 100);
    // By the taint manager, from the timeAdded it found in the store and kept.
    expect((await noExecute('n3'))?.timeAdded).toBe(timeAdded);
    await waitFor('the eviction event', async () => (await events()).find((e) => e.reason === 'TaintManagerEviction' && e.involvedObject.name === 'patient'), 10_000);
    // n1 kept beating into the outage; the new control plane gave it a grace period rather than judging it at once.
    // Its heartbeats renew its Lease; the Node, unchanged, is not written again.
    await waitFor('a heartbeat of n1 after the restart', async () => Date.parse((await getLease('n1')).spec?.renewTime ?? '') >= restarted + 1000);
    expect((await getNode('n1')).status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', lastTransitionTime: n1Since });
  });
});
