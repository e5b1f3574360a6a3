/**
 * Scheduling on a real three-node cluster (`mk up --nodes 3`, started once): pods with requests
 * spread over the least allocated nodes; nodeSelector, required and preferred node affinity, pod
 * affinity and anti-affinity decide where pods go (and a pod that fits nowhere stays Pending with
 * kube-scheduler's message); taints keep untolerating pods off a node; a cordoned node takes no
 * new pods and a drained one runs none; a node whose agent stops answering goes Unknown, is tainted
 * unreachable and loses its pods once their tolerations run out, then comes back Ready, while the
 * other nodes' containers never restart. The control plane gets a short node monitor grace period
 * and short default tolerations through the environment of `mk up`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Node, Pod } from '../../../messages';
import { canRunE2e, startMultiNodeCluster, waitFor, type HostState, type MultiNodeCluster } from '../../helpers/multi-node';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(600_000);

/** Above the agents' 10 s heartbeat, so that a healthy node never goes Unknown between two. */
const GRACE = '20s';
/** The unreachable and not-ready tolerations every pod gets, in seconds. */
const TOLERATION_S = '3';
const ENV = { MK_NODE_MONITOR_GRACE_PERIOD: GRACE, MK_DEFAULT_UNREACHABLE_TOLERATION_SECONDS: TOLERATION_S, MK_DEFAULT_NOT_READY_TOLERATION_SECONDS: TOLERATION_S };

const HOSTNAME = 'kubernetes.io/hostname';

/** A busybox pod that sleeps, stops within a second, labelled `suite: sched` plus `labels`; `spec` is indented YAML added to its spec. */
const podYaml = (name: string, labels: Record<string, string> = {}, spec = ''): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: { suite: sched${Object.entries(labels).map(([k, v]) => `, ${k}: ${v}`).join('')} }
spec:
  terminationGracePeriodSeconds: 1
${spec}  containers:
    - name: main
      image: busybox
      command: ["sleep", "3600"]
      resources: { requests: { cpu: 100m, memory: 16Mi } }
`;

const nodeAffinity = (kind: 'required' | 'preferred', key: string, operator: string, values: string[]): string => kind === 'required'
  ? `  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
          - matchExpressions: [{ key: ${key}, operator: ${operator}, values: [${values.join(', ')}] }]
`
  : `  affinity:
    nodeAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
        - weight: 100
          preference:
            matchExpressions: [{ key: ${key}, operator: ${operator}, values: [${values.join(', ')}] }]
`;

const podAffinity = (kind: 'podAffinity' | 'podAntiAffinity', key: string, value: string): string => `  affinity:
    ${kind}:
      requiredDuringSchedulingIgnoredDuringExecution:
        - labelSelector: { matchLabels: { ${key}: ${value} } }
          topologyKey: ${HOSTNAME}
`;

describeE2e('scheduling on mk up --nodes 3', () => {
  let c: MultiNodeCluster;
  let before: HostState;
  let stopped: number | undefined;
  const saved = Object.fromEntries(Object.keys(ENV).map((k) => [k, process.env[k]]));

  const apply = async (...docs: string[]): Promise<void> => {
    const r = await c.mk(['apply', '-f', '-'], { stdin: docs.join('---\n') });
    if (r.code !== 0) throw new Error(`mk apply exited ${r.code}: ${r.stderr}`);
  };
  const mkOk = async (args: string[]): Promise<string> => {
    const r = await c.mk(args, { timeoutMs: 180_000 });
    if (r.code !== 0) throw new Error(`mk ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const pods = async (selector = 'suite=sched'): Promise<Pod[]> =>
    (JSON.parse(await mkOk(['get', 'pods', '-l', selector, '-o', 'json'])) as { items: Pod[] }).items;
  const node = async (name: string): Promise<Node> => JSON.parse(await mkOk(['get', 'node', name, '-o', 'json'])) as Node;
  const ready = (n: Node): string | undefined => n.status?.conditions?.find((x) => x.type === 'Ready')?.status;
  /** Waits until every pod named is Running; returns them by name. */
  const running = async (names: string[], ms = 120_000): Promise<Map<string, Pod>> => waitFor(`${names.join(', ')} Running`, async () => {
    const list = (await pods()).filter((p) => names.includes(p.metadata.name));
    return list.length === names.length && list.every((p) => p.status?.phase === 'Running')
      ? new Map(list.map((p) => [p.metadata.name, p])) : null;
  }, ms);
  /** The PodScheduled condition's message, once the scheduler has given up on the pod. */
  const unschedulable = (name: string): Promise<string> => waitFor(`${name} unschedulable`, async () => {
    const p = await c.getPod(name);
    const cond = p.status?.conditions?.find((x) => x.type === 'PodScheduled');
    return !p.spec.nodeName && cond?.status === 'False' && cond.reason === 'Unschedulable' ? cond.message : null;
  }, 60_000);
  const removeAll = async (): Promise<void> => { await mkOk(['delete', 'pods', '-l', 'suite=sched', '--timeout', '120']); };
  /** The containers running on a node, by its own containerd. */
  const tasksOn = async (name: string): Promise<string[]> => {
    const n = c.nodes.find((x) => x.name === name)!;
    const r = await c.runOnNode(name, ['ctr', '-a', `${n.dataDir}/containerd/containerd.sock`, '-n', 'k8s.io', 'tasks', 'ls']);
    expect(r.code).toBe(0);
    return r.stdout.split('\n').filter((l) => /\sRUNNING\s*$/.test(l)).map((l) => l.split(/\s+/)[0]);
  };
  const containerId = (p: Pod): string => (p.status?.containerStatuses?.[0]?.containerID ?? '').replace(/^containerd:\/\//, '');

  beforeAll(async () => {
    // mk up passes its environment on to the control plane it starts.
    Object.assign(process.env, ENV);
    c = await startMultiNodeCluster({ nodes: 3 });
    before = await c.hostState();
  });
  afterAll(async () => {
    if (stopped) { try { process.kill(stopped, 'SIGCONT'); } catch { /* gone */ } }
    await c?.destroy();
    for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  });

  it('spreads six pods with requests two to a node', async () => {
    const nodes = await c.waitNodesReady();
    expect(nodes.map((n) => n.metadata.name).sort()).toEqual(['node', 'node-2', 'node-3']);
    for (const n of nodes) expect(n.metadata.labels?.[HOSTNAME]).toBe(n.metadata.name);
    // The control plane that mk up started runs with the settings given to mk up.
    const cp = Number(fs.readFileSync(path.join(c.dataDir, 'run', 'control-plane.pid'), 'utf8').trim());
    const environ = fs.readFileSync(`/proc/${cp}/environ`, 'utf8').split('\0');
    for (const [k, v] of Object.entries(ENV)) expect(environ).toContain(`${k}=${v}`);
    const names = Array.from({ length: 6 }, (_, i) => `spread-${i}`);
    await apply(...names.map((n) => podYaml(n)));
    const placed = await running(names, 180_000);
    const count = new Map<string, number>();
    for (const p of placed.values()) count.set(p.spec.nodeName!, (count.get(p.spec.nodeName!) ?? 0) + 1);
    expect(Object.fromEntries(count)).toEqual({ node: 2, 'node-2': 2, 'node-3': 2 });
    await removeAll();
  });

  it('places pods by nodeSelector, node affinity, pod affinity and anti-affinity', async () => {
    expect(await mkOk(['label', 'nodes', 'node-2', 'disk=ssd'])).toContain('node/node-2 labeled');
    expect((await node('node-2')).metadata.labels?.disk).toBe('ssd');
    await apply(
      podYaml('selected', { role: 'anchor' }, '  nodeSelector: { disk: ssd }\n'),
      podYaml('not-in', {}, nodeAffinity('required', HOSTNAME, 'NotIn', ['node', 'node-2'])),
      podYaml('in', {}, nodeAffinity('required', HOSTNAME, 'In', ['node'])),
    );
    let got = await running(['selected', 'not-in', 'in']);
    expect(got.get('selected')!.spec.nodeName).toBe('node-2');
    expect(got.get('not-in')!.spec.nodeName).toBe('node-3');
    expect(got.get('in')!.spec.nodeName).toBe('node');
    // node-2 now runs the most; a preference for ssd still outweighs that, and pod affinity follows the anchor.
    await apply(
      podYaml('preferred', {}, nodeAffinity('preferred', 'disk', 'In', ['ssd'])),
      podYaml('near', {}, podAffinity('podAffinity', 'role', 'anchor')),
    );
    got = await running(['preferred', 'near']);
    expect(got.get('preferred')!.spec.nodeName).toBe('node-2');
    expect(got.get('near')!.spec.nodeName).toBe('node-2');
    // A pod whose node affinity no node matches waits, with the reason.
    await apply(podYaml('nowhere', {}, nodeAffinity('required', 'disk', 'In', ['nvme'])));
    expect(await unschedulable('nowhere')).toBe("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: not eligible.");

    const spread = ['anti-0', 'anti-1', 'anti-2'];
    await apply(...spread.map((n) => podYaml(n, { app: 'anti' }, podAffinity('podAntiAffinity', 'app', 'anti'))));
    got = await running(spread);
    expect(new Set([...got.values()].map((p) => p.spec.nodeName))).toEqual(new Set(['node', 'node-2', 'node-3']));
    await apply(podYaml('anti-3', { app: 'anti' }, podAffinity('podAntiAffinity', 'app', 'anti')));
    expect(await unschedulable('anti-3')).toBe("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: not eligible.");
    expect((await c.getPod('anti-3')).status?.phase).toBe('Pending');
    const events = await mkOk(['events', '--for', 'pod/anti-3']);
    expect(events).toMatch(/FailedScheduling\s+.*0\/3 nodes are available: 3 node\(s\) didn't match pod anti-affinity rules/);
    // One of the three goes: the fourth takes its node.
    const freed = got.get('anti-1')!.spec.nodeName;
    await mkOk(['delete', 'pod', 'anti-1']);
    expect((await running(['anti-3'])).get('anti-3')!.spec.nodeName).toBe(freed);
    await removeAll();
    expect(await mkOk(['label', 'nodes', 'node-2', 'disk-'])).toContain('node/node-2 unlabeled');
  });

  it('keeps pods that do not tolerate a NoSchedule taint off the node until it is removed', async () => {
    expect(await mkOk(['taint', 'nodes', 'node-2', 'dedicated=gpu:NoSchedule'])).toContain('node/node-2 tainted');
    expect((await node('node-2')).spec?.taints).toContainEqual({ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' });
    const names = Array.from({ length: 4 }, (_, i) => `plain-${i}`);
    const toleration = '  tolerations: [{ key: dedicated, operator: Equal, value: gpu, effect: NoSchedule }]\n';
    await apply(
      ...names.map((n) => podYaml(n)),
      podYaml('tolerant', {}, `${toleration}  nodeSelector: { ${HOSTNAME}: node-2 }\n`),
      podYaml('pinned', {}, `  nodeSelector: { ${HOSTNAME}: node-2 }\n`),
    );
    const got = await running([...names, 'tolerant']);
    for (const n of names) expect(got.get(n)!.spec.nodeName).not.toBe('node-2');
    expect(got.get('tolerant')!.spec.nodeName).toBe('node-2');
    expect(await unschedulable('pinned')).toBe(
      "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 node(s) didn't match Pod's node affinity/selector. preemption: not eligible.",
    );
    expect(await mkOk(['taint', 'nodes', 'node-2', 'dedicated-'])).toContain('node/node-2 untainted');
    expect((await node('node-2')).spec?.taints ?? []).toEqual([]);
    expect((await running(['pinned'])).get('pinned')!.spec.nodeName).toBe('node-2');
    await removeAll();
  });

  it('sends no new pods to a cordoned node, and drains it of its pods and their containers', async () => {
    await apply(...['d-0', 'd-1', 'd-2'].map((n, i) => podYaml(n, {}, `  nodeSelector: { ${HOSTNAME}: ${['node', 'node-2', 'node-3'][i]} }\n`)));
    const onNode3 = (await running(['d-0', 'd-1', 'd-2'])).get('d-2')!;
    expect(await tasksOn('node-3')).toContain(containerId(onNode3));

    expect(await mkOk(['cordon', 'node-3'])).toContain('node/node-3 cordoned');
    expect((await node('node-3')).spec?.unschedulable).toBe(true);
    expect(await mkOk(['get', 'nodes', 'node-3', '--no-headers'])).toMatch(/^node-3\s+Ready,SchedulingDisabled\s/);
    const names = Array.from({ length: 3 }, (_, i) => `after-cordon-${i}`);
    await apply(...names.map((n) => podYaml(n)), podYaml('wants-3', {}, `  nodeSelector: { ${HOSTNAME}: node-3 }\n`));
    const got = await running(names);
    for (const n of names) expect(got.get(n)!.spec.nodeName).not.toBe('node-3');
    expect(await unschedulable('wants-3')).toBe(
      "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match Pod's node affinity/selector. preemption: not eligible.",
    );
    // A pod no controller manages is not drained without --force: nothing is evicted.
    const refused = await c.mk(['drain', 'node-3', '--grace-period', '1']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error: unable to drain node "node-3": cannot delete Pods that declare no controller (use --force to override): default/d-2');
    expect((await c.getPod('d-2')).metadata.deletionTimestamp).toBeUndefined();
    expect(await tasksOn('node-3')).toContain(containerId(onNode3));
    // With --force the pod still running there is evicted; the pod that waits for the node is not on it.
    const drained = await c.mk(['drain', 'node-3', '--force', '--grace-period', '1'], { timeoutMs: 180_000 });
    expect(drained).toMatchObject({ code: 0 });
    expect(drained.stdout).toContain('evicting pod default/d-2');
    expect(drained.stdout).toContain('pod/d-2 evicted');
    expect(drained.stdout).toContain('node/node-3 drained');
    expect((await pods()).filter((p) => p.spec.nodeName === 'node-3')).toEqual([]);
    await waitFor('no containers left on node-3', async () => ((await tasksOn('node-3')).length === 0 ? true : null), 30_000);
    const others = [...got.values()].concat([...(await running(['d-0', 'd-1'])).values()]);
    for (const p of others) expect(await tasksOn(p.spec.nodeName!)).toContain(containerId(p));

    expect(await mkOk(['uncordon', 'node-3'])).toContain('node/node-3 uncordoned');
    expect((await node('node-3')).spec?.unschedulable).toBeFalsy();
    expect((await running(['wants-3'])).get('wants-3')!.spec.nodeName).toBe('node-3');
    await removeAll();
  });

  it('evicts the pods of a node that stops answering, and takes the node back when it answers again', async () => {
    const names = ['f-0', 'f-1', 'f-2', 'f-3'];
    const where = ['node', 'node-2', 'node-2', 'node-3'];
    await apply(...names.map((n, i) => podYaml(n, {}, `  nodeSelector: { ${HOSTNAME}: ${where[i]} }\n`)));
    const was = await running(names);
    // Every pod got the default tolerations, with the short toleration seconds the control plane was given.
    expect(was.get('f-0')!.spec.tolerations).toContainEqual(
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: Number(TOLERATION_S) },
    );
    const stayIds = new Map(['f-0', 'f-3'].map((n) => [n, containerId(was.get(n)!)]));
    const goneIds = ['f-1', 'f-2'].map((n) => containerId(was.get(n)!));

    stopped = c.nodeAgentPid('node-2');
    expect(stopped).toBeGreaterThan(0);
    process.kill(stopped!, 'SIGSTOP');
    const t0 = Date.now();
    const lost = await waitFor('node-2 Unknown', async () => {
      const n = await node('node-2');
      return ready(n) === 'Unknown' ? n : null;
    }, 90_000, 500);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(10_000);
    expect((lost.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`)).toEqual(expect.arrayContaining([
      'node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute',
    ]));
    expect(await mkOk(['get', 'nodes', 'node-2', '--no-headers'])).toMatch(/^node-2\s+NotReady\s/);
    // Its pods are evicted once their toleration runs out; the node must stop them before they go.
    await waitFor('node-2\'s pods marked for deletion', async () => {
      const list = (await pods()).filter((p) => p.spec.nodeName === 'node-2');
      return list.length === 2 && list.every((p) => p.metadata.deletionTimestamp) ? list : null;
    }, 30_000);
    const events = await mkOk(['get', 'events', '-A']);
    expect(events).toContain('Marking for deletion Pod default/f-1');
    expect(events).toContain('Marking for deletion Pod default/f-2');
    // The other nodes' pods are untouched.
    for (const p of await pods()) if (p.spec.nodeName !== 'node-2') expect(p.metadata.deletionTimestamp).toBeUndefined();

    process.kill(stopped!, 'SIGCONT');
    stopped = undefined;
    await waitFor('node-2 Ready and untainted', async () => {
      const n = await node('node-2');
      return ready(n) === 'True' && (n.spec?.taints ?? []).length === 0 ? n : null;
    }, 60_000);
    const after = await waitFor('node-2\'s pods gone', async () => {
      const list = await pods();
      return list.length === 2 ? list : null;
    }, 60_000);
    expect(after.map((p) => p.metadata.name).sort()).toEqual(['f-0', 'f-3']);
    for (const p of after) {
      expect(p.status?.phase).toBe('Running');
      expect(p.status?.containerStatuses?.[0]).toMatchObject({ containerID: `containerd://${stayIds.get(p.metadata.name)}`, restartCount: 0 });
      expect(await tasksOn(p.spec.nodeName!)).toContain(stayIds.get(p.metadata.name));
    }
    await waitFor('node-2\'s containers stopped', async () => {
      const left = await tasksOn('node-2');
      return goneIds.every((id) => !left.includes(id)) ? true : null;
    }, 30_000);
    await c.waitNodesReady();
    await removeAll();
  });

  it('evicts the pods of a node cut off the network, which stops them once it is back', async () => {
    await apply(podYaml('p-0', {}, `  nodeSelector: { ${HOSTNAME}: node }\n`), podYaml('p-3', {}, `  nodeSelector: { ${HOSTNAME}: node-3 }\n`));
    const was = await running(['p-0', 'p-3']);
    const goneId = containerId(was.get('p-3')!);
    const stayId = containerId(was.get('p-0')!);
    await c.disconnectNode('node-3');
    try {
      await waitFor('node-3 Unknown', async () => (ready(await node('node-3')) === 'Unknown' ? true : null), 90_000, 500);
      await waitFor('p-3 marked for deletion', async () => (await c.getPod('p-3')).metadata.deletionTimestamp, 30_000);
      // Cut off, the node cannot hear of it: its container runs on.
      expect(await tasksOn('node-3')).toContain(goneId);
      // A replacement pinned to node-3 waits: the node is tainted unreachable.
      await apply(podYaml('p-3b', {}, `  nodeSelector: { ${HOSTNAME}: node-3 }\n`));
      expect(await unschedulable('p-3b')).toBe(
        "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 node(s) didn't match Pod's node affinity/selector. preemption: not eligible.",
      );
    } finally {
      await c.reconnectNode('node-3');
    }
    await waitFor('node-3 Ready and untainted', async () => {
      const n = await node('node-3');
      return ready(n) === 'True' && (n.spec?.taints ?? []).length === 0 ? n : null;
    }, 90_000);
    await waitFor('p-3 gone', async () => !(await pods()).some((p) => p.metadata.name === 'p-3'), 60_000);
    await waitFor('p-3\'s container stopped', async () => !(await tasksOn('node-3')).includes(goneId), 30_000);
    expect((await running(['p-3b'])).get('p-3b')!.spec.nodeName).toBe('node-3');
    const p0 = await c.getPod('p-0');
    expect(p0.status?.containerStatuses?.[0]).toMatchObject({ containerID: `containerd://${stayId}`, restartCount: 0 });
    await removeAll();
  });

  it('leaves nothing on the machine after mk down', async () => {
    expect(before.netns).toEqual(c.nodes.map((n) => n.netns).sort());
    expect(before.links).toContain(c.topology.bridge);
    expect(before.processes.length).toBeGreaterThan(0);
    expect((await c.mk(['down'], { timeoutMs: 180_000 })).code).toBe(0);
    expect(await c.hostState()).toEqual({ netns: [], links: ['lo'], mounts: [], processes: [], cgroups: [] });
  });
});
