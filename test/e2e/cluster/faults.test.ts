/**
 * Faults a user met, each reproduced on a whole `mk up` cluster in a network namespace: the bus
 * server SIGKILLed and restarted (its supervisor brings it back) before a burst of pods; the node's
 * containerd SIGKILLed (the node agent brings it back, adopting what runs); the node agent
 * SIGKILLed in the middle of a burst.
 */
import type { Pod } from '../../../messages';
import { canRunE2e, startCluster, waitFor, type TestCluster } from '../../helpers/cluster';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(600_000);

const podsYaml = (prefix: string, n: number): string => Array.from({ length: n }, (_, i) => `apiVersion: v1
kind: Pod
metadata:
  name: ${prefix}-${i}
  labels: { burst: ${prefix} }
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: busybox
      command: ["sleep", "3600"]
`).join('---\n');

describeE2e('faults', () => {
  let c: TestCluster;
  const pods = async (selector: string): Promise<Pod[]> => {
    const r = await c.mk(['get', 'pods', '-l', selector, '-o', 'json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return (JSON.parse(r.stdout) as { items: Pod[] }).items;
  };
  const allRunning = (selector: string, n: number, ms: number) => waitFor(`${n} pods (${selector}) Running`, async () => {
    const list = await pods(selector);
    return list.length === n && list.every((p) => p.status?.phase === 'Running') ? list : null;
  }, ms);
  const nodeReady = (ms: number) => waitFor('the node Ready', async () => {
    const r = await c.mk(['get', 'nodes', '--no-headers']);
    return r.code === 0 && /\sReady\s/.test(r.stdout) ? r.stdout : null;
  }, ms);
  const deleteBurst = async (selector: string): Promise<void> => {
    const del = await c.mk(['delete', 'pods', '-l', selector, '--timeout', '120'], { timeoutMs: 180_000 });
    expect(del.code).toBe(0);
    expect(await pods(selector)).toEqual([]);
  };

  beforeAll(async () => { c = await startCluster(); });
  afterAll(async () => { await c?.destroy(); });

  it('starts a burst of pods promptly after the bus server was SIGKILLed and restarted', async () => {
    const before = c.pidOf('nats-server');
    expect(before).toBeDefined();
    process.kill(before!, 'SIGKILL');
    // The supervisor restarts it; every process reconnects.
    await waitFor('nats-server restarted', async () => { const p = c.pidOf('nats-server'); return p && p !== before ? p : null; }, 30_000);
    await waitFor('the api answering again', async () => ((await c.mk(['get', 'ns'])).code === 0 ? true : null), 30_000);
    const apply = await c.mk(['apply', '-f', '-'], { stdin: podsYaml('after-bus', 40) });
    expect(apply.code).toBe(0);
    // A healthy node starts 40 pods in seconds; a node whose watch died saw none of them for minutes.
    const running = await allRunning('burst=after-bus', 40, 60_000);
    expect(running.every((p) => p.status?.containerStatuses?.[0]?.restartCount === 0)).toBe(true);
    await deleteBurst('burst=after-bus');
  });

  it('restarts a SIGKILLed containerd, keeps its running containers, and runs new pods', async () => {
    expect((await c.mk(['apply', '-f', '-'], { stdin: podsYaml('steady', 1) })).code).toBe(0);
    const [steady] = await allRunning('burst=steady', 1, 60_000);
    const id = steady.status!.containerStatuses![0].containerID;
    const containerd = c.pidOf('containerd --config');
    expect(containerd).toBeDefined();
    process.kill(containerd!, 'SIGKILL');
    await waitFor('containerd restarted', async () => { const p = c.pidOf('containerd --config'); return p && p !== containerd ? p : null; }, 30_000);
    await nodeReady(30_000);
    expect((await c.mk(['apply', '-f', '-'], { stdin: podsYaml('after-ctr', 3) })).code).toBe(0);
    await allRunning('burst=after-ctr', 3, 60_000);
    const [again] = await pods('burst=steady');
    expect(again.status?.containerStatuses?.[0]).toMatchObject({ containerID: id, restartCount: 0, ready: true });
    await deleteBurst('burst=after-ctr');
    await deleteBurst('burst=steady');
  });

  it('finishes a burst when the node agent is SIGKILLed in the middle of it', async () => {
    expect((await c.mk(['apply', '-f', '-'], { stdin: podsYaml('mid', 30) })).code).toBe(0);
    // Let the agent get going on them, then kill it mid-work.
    await waitFor('some pods started', async () => ((await pods('burst=mid')).some((p) => p.status?.phase === 'Running') ? true : null), 60_000);
    const before = (await pods('burst=mid')).filter((p) => p.status?.phase === 'Running');
    const agent = c.pidOf('node-agent');
    process.kill(agent!, 'SIGKILL');
    const running = await allRunning('burst=mid', 30, 120_000);
    // No container of a pod that never exited was started twice.
    expect(running.map((p) => p.status?.containerStatuses?.[0]?.restartCount)).toEqual(running.map(() => 0));
    // The pods Running before keep their status: the restarted agent takes up the status it had
    // journaled (the view carries none) rather than making a new one.
    expect(before.length).toBeGreaterThan(0);
    for (const p of before) {
      const now = running.find((r) => r.metadata.uid === p.metadata.uid)?.status;
      expect(now?.startTime).toBe(p.status?.startTime);
      expect(now?.containerStatuses?.[0]?.containerID).toBe(p.status?.containerStatuses?.[0]?.containerID);
    }
    await deleteBurst('burst=mid');
  });
});
