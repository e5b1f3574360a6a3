/**
 * A node that stops heartbeating without losing its containers: the node agent is SIGSTOPped past
 * the node monitor grace period (set short for the test), so the control plane marks the node
 * Unknown, taints it unreachable and evicts the pod whose toleration runs out, while a pod deleted
 * meanwhile waits for its node, and the pod still bound is marked not ready. After SIGCONT the
 * node is Ready again, untainted, stops the pods deleted while it was away, and the pod still
 * bound keeps running with no container restarted and is ready again.
 */
import type { Node, Pod } from '../../../messages';
import { canRunE2e, startCluster, waitFor, type TestCluster } from '../../helpers/cluster';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(600_000);

/** Above the agent's 10 s heartbeat, so that a healthy node never goes Unknown between two. */
const GRACE = '15s';

const podYaml = (name: string, tolerationSeconds?: number): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: { pause: "yes" }
spec:
  terminationGracePeriodSeconds: 1
  tolerations:
    - key: node.kubernetes.io/unreachable
      operator: Exists
      effect: NoExecute${tolerationSeconds !== undefined ? `\n      tolerationSeconds: ${tolerationSeconds}` : ''}
  containers:
    - name: main
      image: busybox
      command: ["sleep", "3600"]
`;

describeE2e('a paused node agent', () => {
  let c: TestCluster;
  let stopped: number | undefined;
  const saved = process.env.MK_NODE_MONITOR_GRACE_PERIOD;
  const json = async <T>(args: string[]): Promise<T> => {
    const r = await c.mk([...args, '-o', 'json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as T;
  };
  const pods = async (): Promise<Pod[]> => (await json<{ items: Pod[] }>(['get', 'pods', '-l', 'pause=yes'])).items;
  const node = async (): Promise<Node> => (await json<{ items: Node[] }>(['get', 'nodes'])).items[0];
  const ready = async (): Promise<string | undefined> => (await node()).status?.conditions?.find((x) => x.type === 'Ready')?.status;

  beforeAll(async () => {
    // mk up passes its environment to the control plane it starts.
    process.env.MK_NODE_MONITOR_GRACE_PERIOD = GRACE;
    c = await startCluster();
  });
  afterAll(async () => {
    if (stopped) { try { process.kill(stopped, 'SIGCONT'); } catch { /* gone */ } }
    await c?.destroy();
    if (saved === undefined) delete process.env.MK_NODE_MONITOR_GRACE_PERIOD; else process.env.MK_NODE_MONITOR_GRACE_PERIOD = saved;
  });

  it('is marked Unknown and tainted, evicts by toleration, and resumes with no container restarted', async () => {
    for (const [name, secs] of [['steady', undefined], ['evicted', 2], ['deleted', undefined]] as const) {
      expect((await c.mk(['apply', '-f', '-'], { stdin: podYaml(name, secs) })).code).toBe(0);
    }
    const before = await waitFor('three pods Running', async () => {
      const list = await pods();
      return list.length === 3 && list.every((p) => p.status?.phase === 'Running') ? list : null;
    }, 120_000);
    const steadyId = before.find((p) => p.metadata.name === 'steady')!.status!.containerStatuses![0].containerID;
    expect(steadyId).toBeDefined();

    stopped = c.pidOf('node-agent');
    expect(stopped).toBeDefined();
    process.kill(stopped!, 'SIGSTOP');
    await waitFor('the node Unknown', async () => ((await ready()) === 'Unknown' ? true : null), 60_000);
    const taints = (await node()).spec?.taints ?? [];
    expect(taints.map((t) => `${t.key}:${t.effect}`)).toContain('node.kubernetes.io/unreachable:NoExecute');
    expect((await c.mk(['get', 'nodes', '--no-headers'])).stdout).toMatch(/\sNotReady\s/);
    // The pod whose toleration ran out is marked for deletion; its node must stop it first.
    await waitFor('evicted marked for deletion', async () => (await pods()).find((p) => p.metadata.name === 'evicted')?.metadata.deletionTimestamp, 30_000);
    expect((await c.mk(['delete', 'pod', 'deleted', '--wait=false'])).code).toBe(0);
    const events = await c.mk(['get', 'events', '-A']);
    expect(events.stdout).toContain('Marking for deletion Pod default/evicted');
    expect(events.stdout).toContain('NodeNotReady');
    // No one can vouch for the pods of an Unknown node: they are marked not ready, as Kubernetes does.
    const marked = await waitFor('steady marked not ready', async () => {
      const p = (await pods()).find((x) => x.metadata.name === 'steady');
      return p?.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'False' ? p : null;
    }, 30_000);
    expect(marked.status?.conditions?.find((x) => x.type === 'Ready')).toMatchObject({ reason: 'NodeNotReady', message: 'Node is not ready' });
    expect((await c.mk(['get', 'pod', 'steady', '--no-headers'])).stdout).toMatch(/^steady\s+0\/1\s+Running\s/);
    const described = await c.mk(['describe', 'node']);
    expect(described.stdout).toMatch(/\nTaints:\s+node\.kubernetes\.io\/unreachable:NoSchedule\n\s+node\.kubernetes\.io\/unreachable:NoExecute\n/);
    expect(described.stdout).toMatch(/ {2}Ready\s+Unknown\s/);

    process.kill(stopped!, 'SIGCONT');
    stopped = undefined;
    await waitFor('the node Ready and untainted', async () => ((await ready()) === 'True' && !(await node()).spec?.taints ? true : null), 60_000);
    const after = await waitFor('the deleted and evicted pods gone', async () => {
      const list = await pods();
      return list.length === 1 ? list : null;
    }, 60_000);
    expect(after[0].metadata.name).toBe('steady');
    expect(after[0].status?.phase).toBe('Running');
    expect(after[0].status?.containerStatuses?.[0]).toMatchObject({ containerID: steadyId, restartCount: 0 });
    // Its agent, back, writes the true status again: ready, the same container.
    const readyAgain = await waitFor('steady ready again', async () => {
      const p = (await pods()).find((x) => x.metadata.name === 'steady');
      return p?.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True' ? p : null;
    }, 30_000);
    expect(readyAgain.status?.containerStatuses?.[0]).toMatchObject({ containerID: steadyId, restartCount: 0, ready: true });
    expect((await c.mk(['get', 'pod', 'steady', '--no-headers'])).stdout).toMatch(/^steady\s+1\/1\s+Running\s/);
    // And what the node runs agrees: one container of steady's, and the evicted ones stopped.
    const ps = await c.run(['ctr', '-a', `${c.dataDir}/node/containerd/containerd.sock`, '-n', 'k8s.io', 'tasks', 'ls']);
    const running = ps.stdout.split('\n').filter((l) => /\sRUNNING\s*$/.test(l)).map((l) => l.split(/\s+/)[0]);
    const idOf = (name: string) => (before.find((p) => p.metadata.name === name)?.status?.containerStatuses?.[0]?.containerID ?? '').replace(/^containerd:\/\//, '');
    expect(running).toContain(idOf('steady'));
    expect(running).not.toContain(idOf('evicted'));
    expect(running).not.toContain(idOf('deleted'));
    expect((await c.mk(['delete', 'pods', '-l', 'pause=yes', '--timeout', '60'], { timeoutMs: 120_000 })).code).toBe(0);
  });
});
