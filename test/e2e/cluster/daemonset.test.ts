/**
 * A DaemonSet on a real two-node cluster (`mk up --nodes 2`): its pods run as real containers, one
 * on each node (the node agents run pods the controller bound), a node labelled out of its
 * nodeSelector loses its pod and gets it back when labelled in again, `mk rollout restart ds`
 * replaces every pod with `mk rollout status` waiting for it, and deleting the set removes them.
 */
import type { Pod } from '../../../messages';
import { canRunE2e, startMultiNodeCluster, waitFor, type MultiNodeCluster } from '../../helpers/multi-node';

const describeE2e = canRunE2e() ? describe : describe.skip;
jest.setTimeout(600_000);

const DS = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: { app: agent }
  template:
    metadata:
      labels: { app: agent }
    spec:
      terminationGracePeriodSeconds: 1
      nodeSelector: { agent: "on" }
      containers:
        - name: main
          image: busybox
          command: ["sleep", "3600"]
`;

describeE2e('a DaemonSet on mk up --nodes 2', () => {
  let c: MultiNodeCluster;

  const mkOk = async (args: string[], stdin?: string): Promise<string> => {
    const r = await c.mk(args, { timeoutMs: 180_000, stdin });
    if (r.code !== 0) throw new Error(`mk ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const pods = async (): Promise<Pod[]> => (JSON.parse(await mkOk(['get', 'pods', '-l', 'app=agent', '-o', 'json'])) as { items: Pod[] }).items
    .filter((p) => !p.metadata.deletionTimestamp);
  /** Waits until the set's running pods are exactly one on each of `nodes`; returns them. */
  const runningOn = (nodes: string[]): Promise<Pod[]> => waitFor(`agent running on ${nodes.join(', ')}`, async () => {
    const list = await pods();
    const on = list.map((p) => p.spec.nodeName).sort();
    return JSON.stringify(on) === JSON.stringify(nodes) && list.every((p) => p.status?.phase === 'Running') ? list : null;
  }, 180_000);

  beforeAll(async () => {
    c = await startMultiNodeCluster({ nodes: 2 });
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('runs one real pod per labelled node, follows the labels, restarts them and goes when deleted', async () => {
    await c.waitNodesReady();
    for (const n of ['node', 'node-2']) await mkOk(['label', 'nodes', n, 'agent=on']);
    await mkOk(['apply', '-f', '-'], DS);
    const first = await runningOn(['node', 'node-2']);
    for (const p of first) expect(p.status?.containerStatuses?.[0]?.state?.running).toBeTruthy();
    expect(await mkOk(['get', 'ds', 'agent'])).toMatch(/^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\nagent\s+2\s+2\s+2\s+2\s+2\s+agent=on\s+/);

    await mkOk(['label', 'nodes', 'node-2', 'agent=off', '--overwrite']);
    await runningOn(['node']);
    await mkOk(['label', 'nodes', 'node-2', 'agent=on', '--overwrite']);
    const back = await runningOn(['node', 'node-2']);

    expect(await mkOk(['rollout', 'restart', 'ds/agent'])).toBe('daemonset.apps/agent restarted\n');
    expect(await mkOk(['rollout', 'status', 'ds/agent', '--timeout=3m'])).toMatch(/daemon set "agent" successfully rolled out\n$/);
    const restarted = await runningOn(['node', 'node-2']);
    const before = new Set(back.map((p) => p.metadata.name));
    expect(restarted.every((p) => !before.has(p.metadata.name))).toBe(true);

    await mkOk(['delete', 'ds', 'agent']);
    await waitFor('agent pods gone', async () => {
      const all = JSON.parse(await mkOk(['get', 'pods', '-l', 'app=agent', '-o', 'json'])) as { items: Pod[] };
      return all.items.length === 0 ? true : null;
    }, 120_000);
  });
});
